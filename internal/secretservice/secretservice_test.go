package secretservice

import (
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
