package config

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// decodeServers collects what decodeEach decodes.
func decodeServers(b []byte) ([]Server, bool) {
	var out []Server
	ok := decodeEach(b, func(s *Server) { out = append(out, *s) })
	return out, ok
}

// FuzzDecodeServers checks the quick decoding of a config against
// go-toml's decoder: whatever decodeServers accepts, the decoder accepts
// too, and decodes to the same entries.
func FuzzDecodeServers(f *testing.F) {
	for _, s := range []string{
		"[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https://auth.example.org\"\n",
		"# c\n[[server]] # c\nmatch = 'x'\n\"host\" = \"\"\"h\"\"\"\nallow_http = true\nscopes = [\"a\", 'b',]\nredirect_ports = [1, +2, 3_0]\n",
		"[[server]]\nmatch = \"a\\u00e9\\n\"\nmatch = \"b\"\n", "[[server]]\nredirect_ports = []\nscopes = []\n",
		"[server]\nmatch = \"x\"\n", "match = \"x\"\n", "[[server]]\nmatch.x = 1\n", "[[server]]\nnope = 1\n",
		"[[server]]\nallow_http = \"yes\"\n", "[[server]]\nredirect_ports = [99999999999]\n", "[[server]]\n[[server]]\nauth = \"basic\"\n",
		"[[server]]\nmatch = \"x\"\n[[server.sub]]\n", "[[server]]\nmatch = \"\"\"\nmulti\nline\"\"\"\n", "[[server]]\nhost = 1979-05-27\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := decodeServers(b)
		if !ok {
			return
		}
		var want Config
		dec := toml.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("decodeServers accepts %q, which go-toml refuses: %v", b, err)
		}
		if len(got) == 0 && len(want.Servers) == 0 {
			return
		}
		if !reflect.DeepEqual(got, want.Servers) {
			t.Fatalf("decodeServers(%q) =\n%#v\ngo-toml:\n%#v", b, got, want.Servers)
		}
	})
}

// TestDecodeServersTakesTheUsualShape pins which configs take the quick
// path, so that FuzzDecodeServers compares something, and that ParseConfig
// gives the same result either way.
func TestDecodeServersTakesTheUsualShape(t *testing.T) {
	for s, quick := range map[string]bool{
		"[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https://auth.example.org\"\nauth = \"Bearer\"\n":                                     true,
		"[[server]]\nmatch = \"r.example.org\"\nissuer = \"https://i.example.org\"\nclient_id = \"c\"\nscopes = [\"openid\"]\nredirect_ports = [8400]\n": true,
		"[[server]]\nmatch = \"x\"\nmatch = \"y\"\n": false,
		"[[server]]\nunknown = \"x\"\n":              false,
		"[[server]]\nredirect_ports = [0x10]\n":      false,
		"server = [{match = \"x\", host = \"h\"}]\n": false,
	} {
		if _, got := decodeServers([]byte(s)); got != quick {
			t.Errorf("decodeServers(%q) takes it: %v, want %v", s, got, quick)
		}
	}
}

// TestParseConfigOwnsItsEntries: the decoded entries share the bytes they
// are decoded from, so ParseConfig decodes a copy: a caller that reuses
// its buffer afterwards changes no entry.
func TestParseConfigOwnsItsEntries(t *testing.T) {
	b := []byte("[[server]]\nmatch = \"https://git.example.org/\"\nissuer = \"https://idp.example.org\"\nclient_id = \"c\"\nscopes = [\"openid\"]\n")
	c, err := ParseConfig("config.toml", b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'x'
	}
	if s := c.Servers[0]; s.Match != "https://git.example.org/" || s.Issuer != "https://idp.example.org" || s.Scopes[0] != "openid" {
		t.Errorf("after the caller reused its buffer the entry is %+v", s)
	}
}
