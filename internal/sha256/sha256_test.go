package sha256

import (
	cryptosha256 "crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

// TestSumAsCrypto checks Sum256 against crypto/sha256 for every length
// around the block and padding boundaries, and for FIPS 180-4's own
// examples.
func TestSumAsCrypto(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 1100)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	for n := range len(b) {
		if got, want := Sum256(b[:n]), cryptosha256.Sum256(b[:n]); got != want {
			t.Fatalf("Sum256 of %d bytes = %x, want %x", n, got, want)
		}
	}
	for in, want := range map[string]string{
		"":    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq": "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	} {
		if got := Sum256([]byte(in)); hex.EncodeToString(got[:]) != want {
			t.Errorf("Sum256(%q) = %x, want %s", in, got, want)
		}
	}
}

// FuzzSum is TestSumAsCrypto for any input.
func FuzzSum(f *testing.F) {
	f.Add([]byte("https://auth.example.org"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Sum256(b), cryptosha256.Sum256(b); got != want {
			t.Errorf("Sum256(%q) = %x, want %x", b, got, want)
		}
	})
}
