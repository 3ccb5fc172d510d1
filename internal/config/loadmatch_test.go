package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzLoadMatch checks that LoadMatch finds what LoadConfig and Match
// find, and fails as LoadConfig fails.
func FuzzLoadMatch(f *testing.F) {
	for _, s := range []string{
		"[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https://auth.example.org\"\n[[server]]\nmatch = \"https://git.example.org/team/\"\nhost = \"https://b.example.org\"\nusername = \"u\"\n",
		"[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https://a.example.org\"\n[[server]]\nmatch = \"https://git.example.org\"\nhost = \"https://b.example.org\"\n",
		"[[server]]\nmatch = \"git.example.org\"\nissuer = \"https://i.example.org\"\nclient_id = \"c\"\n",
		"[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"http://a.example.org\"\n",
		"[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https://a.example.org\"\n[[server]]\nmatch = \"x\"\n",
		"[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https://a.example.org\"\nauth = \"nope\"\n[[server]]\nbogus = 1\n",
		"server = [{match = \"https://git.example.org/\", host = \"https://a.example.org\"}]\n",
		"[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https://a.example.org\"\n[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https://b.example.org\"\n[[server]]\nmatch.x = 1\n",
		"",
	} {
		f.Add([]byte(s), "https", "git.example.org", "team/app.git")
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte, protocol, host, path string) {
		tg, ok := GitTarget(protocol, host, path)
		if !ok {
			return
		}
		file := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		got, gerr := LoadMatch(file, tg)
		if errors.Is(gerr, ErrUnusual) {
			return // a config LoadConfig reads with go-toml's decoder
		}
		c, werr := LoadConfig(file)
		if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
			t.Fatalf("LoadMatch: %v; LoadConfig: %v", gerr, werr)
		}
		if werr != nil {
			return
		}
		if want := c.Match(tg); !reflect.DeepEqual(got, want) {
			t.Fatalf("LoadMatch = %+v, Match = %+v", got, want)
		}
	})
}
