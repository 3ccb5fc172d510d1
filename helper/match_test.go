package helper

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/oidc-auth/oidc-auth/internal/config"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// TestResolveLongestMatch checks that the most specific config entry
// answers, whatever the order of the file.
func TestResolveLongestMatch(t *testing.T) {
	t.Parallel()
	entries := []string{"https://g/", "https://g/team/", "https://g/team/sub/"}
	configs := map[string]string{}
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}} {
		var b []byte
		name := ""
		for _, i := range order {
			b = append(b, "[[server]]\nmatch = \""+entries[i]+"\"\nhost = \"https://auth"+string(rune('0'+i))+".example.org\"\n\n"...)
			name += string(rune('0' + i))
		}
		configs["order "+name] = string(b)
	}
	tests := []struct {
		name, path string
		want       string // the answering entry's Match
	}{
		{"root", "x.git", "https://g/"},
		{"no path", "", "https://g/"},
		{"team", "team/app.git", "https://g/team/"},
		{"team itself", "team", "https://g/team/"},
		{"sub", "team/sub/app.git", "https://g/team/sub/"},
		{"sub-sub", "team/sub/x/app.git", "https://g/team/sub/"},
		{"sibling of sub", "team/subway/app.git", "https://g/team/"},
		{"sibling of team", "teams/app.git", "https://g/"},
	}
	for cname, text := range configs {
		cfg, err := ParseConfig("config.toml", []byte(text))
		if err != nil {
			t.Fatalf("%s: %v", cname, err)
		}
		h := &Helper{Config: cfg, Store: &keyring.FileStore{Path: filepath.Join(t.TempDir(), "tokens.json")}}
		for _, tt := range tests {
			t.Run(cname+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				tg, ok := config.GitTarget("https", "g", tt.path)
				if !ok {
					t.Fatalf("gitTarget failed")
				}
				r, err := h.resolve(context.Background(), tg)
				if err != nil || r == nil {
					t.Fatalf("resolve(%+v) = %v, %v; want %s", tg, r, err, tt.want)
				}
				if r.server.Match != tt.want {
					t.Errorf("path %q answered by %q, want %q", tt.path, r.server.Match, tt.want)
				}
				if r.rec != nil {
					t.Errorf("a config entry answered with a stored record %+v", r.rec)
				}
			})
		}
	}
	t.Run("no entry, no login", func(t *testing.T) {
		t.Parallel()
		cfg, err := ParseConfig("config.toml", []byte(configs["order 012"]))
		if err != nil {
			t.Fatal(err)
		}
		h := &Helper{Config: cfg, Store: &keyring.FileStore{Path: filepath.Join(t.TempDir(), "tokens.json")}}
		tg, _ := config.GitTarget("https", "h", "team/x")
		if r, err := h.resolve(context.Background(), tg); r != nil || err != nil {
			t.Errorf("resolve(other host) = %+v, %v; want nil, nil", r, err)
		}
	})
}
