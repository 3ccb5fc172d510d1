package secretservice

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

func TestUnixOnly(t *testing.T) { testfs.UnixOnly(t) }

// TestChunkHeader: the header keyring writes reads back, and a malformed
// one is an error, never a count to fetch.
func TestChunkHeader(t *testing.T) {
	gen, n, sum, err := ParseChunkHeader(ChunkHeader + "0123456789ab 3 " + "ff00")
	if err != nil || gen != "0123456789ab" || n != 3 || sum != "ff00" {
		t.Fatalf("ParseChunkHeader = %q %d %q %v", gen, n, sum, err)
	}
	if u := ChunkUser("https://a.example.org", gen, 2); u != "https://a.example.org#0123456789ab.2" {
		t.Errorf("ChunkUser = %q", u)
	}
	for _, v := range []string{ChunkHeader, ChunkHeader + "g 3", ChunkHeader + "g 0 s", ChunkHeader + "g 1001 s", ChunkHeader + "g x s", ChunkHeader + "g 2 s extra"} {
		if _, _, _, err := ParseChunkHeader(v); err == nil {
			t.Errorf("ParseChunkHeader(%q) took it", v)
		}
	}
}

// TestJoin: a value that names no parts is the record; a split record's
// parts are asked for at once and joined; a header that does not parse, a
// part missing and parts that do not add up are a CorruptError; any
// other failure of the read is its own.
func TestJoin(t *testing.T) {
	errMissing, errDown := errors.New("missing"), errors.New("down")
	parts := map[string]string{"u#g.1": `{"token": `, "u#g.2": `"x"}`}
	sum := sha256.Sum256([]byte(`{"token": "x"}`))
	header := ChunkHeader + "g 2 " + hex.EncodeToString(sum[:])
	// get reads the parts in one batch, as the commands do: a missing one
	// fails the batch; oneByOne returns the parts read before the missing
	// one, as keyring's reads one at a time do.
	oneByOne := func(users ...string) ([]string, error) {
		var out []string
		for _, u := range users {
			v, ok := parts[u]
			if !ok {
				return out, errMissing
			}
			out = append(out, v)
		}
		return out, nil
	}
	get := func(users ...string) ([]string, error) {
		out, err := oneByOne(users...)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	if v, err := Join("u", `{"token": "y"}`, errMissing, get); err != nil || v != `{"token": "y"}` {
		t.Errorf("a whole record: %q, %v", v, err)
	}
	if v, err := Join("u", header, errMissing, get); err != nil || v != `{"token": "x"}` {
		t.Errorf("a split record: %q, %v", v, err)
	}
	var ce *CorruptError
	for name, v := range map[string]string{
		"bad header":     ChunkHeader + "g two s",
		"a part missing": ChunkHeader + "g 3 " + hex.EncodeToString(sum[:]),
		"another hash":   ChunkHeader + "g 2 00",
	} {
		if _, err := Join("u", v, errMissing, get); !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a CorruptError", name, err)
		}
	}
	if _, err := Join("u", ChunkHeader+"g 3 "+hex.EncodeToString(sum[:]), errMissing, oneByOne); !errors.As(err, &ce) || !strings.Contains(err.Error(), "part 3 of 3 is missing") {
		t.Errorf("a part missing, read one by one: %v, want it named", err)
	}
	down := func(...string) ([]string, error) { return nil, errDown }
	if _, err := Join("u", header, errMissing, down); err != errDown {
		t.Errorf("a failing read: %v, want its own error", err)
	}
}
