//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

// Unix only: the match cache is kept only where a file's owner and mode say that it is private.

package config

import (
	"fmt"
	"github.com/cespare/xxhash/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// cacheHome points XDG_CACHE_HOME at a new private directory, and returns
// the cache directory in it.
func cacheHome(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", home)
	return filepath.Join(home, appName)
}

// writeConfig writes content to a new config file, and returns its path.
func writeConfig(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// teamTarget is the request manyServers' last entry answers.
func teamTarget(t testing.TB) Target {
	tg, ok := GitTarget("https", "git.example.org", "team/app.git")
	if !ok {
		t.Fatal("GitTarget refused the request")
	}
	return tg
}

// wantAsLoadConfig checks that LoadMatch answers t for the config at path
// as LoadConfig and Match do, and returns the answer.
func wantAsLoadConfig(t *testing.T, path string, tg Target) *Server {
	t.Helper()
	got, err := LoadMatch(path, tg)
	if err != nil {
		t.Fatalf("LoadMatch: %v", err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := c.Match(tg); !reflect.DeepEqual(got, want) {
		t.Fatalf("LoadMatch = %+v\nLoadConfig and Match = %+v", got, want)
	}
	return got
}

// forge rewrites the cache file of the config at path so that its answer
// to tg is an entry of host, under the key of the config's content as it
// is now, and returns the cache file.
func forge(t *testing.T, path string, tg Target, host string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := contentKey(sumOf(b))
	if !ok {
		t.Fatal("no key for the config")
	}
	s := &Server{Match: "https://git.example.org/team/", Host: host}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	file, _ := cacheFile(path)
	if err := os.WriteFile(file, encodeCache(k, []cacheRecord{{tg, s}}), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestLoadMatchCaches: a large config's answer is kept in a private file,
// and the next LoadMatch of the same content takes it from there; a small
// config has no cache.
func TestLoadMatchCaches(t *testing.T) {
	dir := cacheHome(t)
	path := writeConfig(t, manyServers(1000))
	tg := teamTarget(t)
	wantAsLoadConfig(t, path, tg)
	file, _ := cacheFile(path)
	fi, err := os.Lstat(file)
	if err != nil {
		t.Fatalf("no cache file after a large config was read: %v", err)
	}
	if fi.Mode() != 0o600 {
		t.Errorf("the cache file's mode is %v, want -rw-------", fi.Mode())
	}
	if di, err := os.Lstat(dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("the cache directory: %v, %v; want mode 0700", di, err)
	}
	// The answer now comes from the cache: a forged one shows.
	forge(t, path, tg, "https://forged.example.org")
	if got, err := LoadMatch(path, tg); err != nil || got == nil || got.Host != "https://forged.example.org" {
		t.Fatalf("LoadMatch = %+v, %v; want the cached answer", got, err)
	}

	// A request no entry answers is cached too, as no answer.
	other, _ := GitTarget("https", "elsewhere.example.org", "x.git")
	for range 2 {
		if got, err := LoadMatch(path, other); got != nil || err != nil {
			t.Fatalf("LoadMatch of a request no entry answers = %+v, %v", got, err)
		}
	}
	b, _ := os.ReadFile(path)
	k, _ := contentKey(sumOf(b))
	recs, ok := decodeCache(readCache(file, dir), k)
	if !ok || len(recs) != 2 || recs[0].target != other || recs[0].server != nil {
		t.Errorf("the cache holds %+v (%v), want the request no entry answers first, with no entry", recs, ok)
	}

	small := writeConfig(t, manyServers(0))
	wantAsLoadConfig(t, small, tg)
	if f, _ := cacheFile(small); exists(f) {
		t.Errorf("a config of %d bytes has a cache file", len(manyServers(0)))
	}
}

// TestCacheSeesEveryChange: whatever changes in the config's content, a
// cached answer of the old content is never given, even when the size
// and modification time stay as they were (an edit in the same tick of a
// coarse clock), and an entry made bad anywhere is reported.
func TestCacheSeesEveryChange(t *testing.T) {
	cacheHome(t)
	tg := teamTarget(t)
	original := manyServers(1000)
	for name, edit := range map[string]func(string) string{
		"the answering entry's host, same size": func(s string) string {
			return strings.Replace(s, "https://idp.example.org/realms/x", "https://idq.example.org/realms/x", 1)
		},
		"another entry now answers, same size": func(s string) string {
			return strings.Replace(s, "https://git-0007.example.org/", "https://git.example.org/team", 1)
		},
		"an entry made bad, same size": func(s string) string {
			return strings.Replace(s, "match = \"https://git-0500.example.org/\"", "match = \"ftp://git-0500.example.org/\"  ", 1)
		},
		"one byte swapped": func(s string) string {
			i := strings.Index(s, "\"u\"")
			return s[:i] + "\"v\"" + s[i+3:]
		},
		"an entry added, which answers first": func(s string) string {
			return "[[server]]\nmatch = \"https://git.example.org/team/\"\nhost = \"https://new.example.org\"\n\n" + s
		},
	} {
		t.Run(name, func(t *testing.T) {
			path := writeConfig(t, original)
			wantAsLoadConfig(t, path, tg)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			changed := edit(original)
			if changed == original {
				t.Fatal("the edit changed nothing")
			}
			if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(path, time.Time{}, fi.ModTime()); err != nil {
				t.Fatal(err)
			}
			got, gerr := LoadMatch(path, tg)
			c, werr := LoadConfig(path)
			if (gerr == nil) != (werr == nil) {
				t.Fatalf("LoadMatch: %v; LoadConfig: %v", gerr, werr)
			}
			if werr == nil {
				if want := c.Match(tg); !reflect.DeepEqual(got, want) {
					t.Fatalf("LoadMatch = %+v\nLoadConfig and Match = %+v", got, want)
				}
			}
		})
	}
}

// TestCacheOnlyWhenPrivate: a cache file or directory that others may
// use, or that is a link, is not read: a forged answer in it does not
// show, and the config is parsed.
func TestCacheOnlyWhenPrivate(t *testing.T) {
	tg := teamTarget(t)
	for name, spoil := range map[string]func(t *testing.T, file, dir string){
		"a file others may read":       func(t *testing.T, file, dir string) { os.Chmod(file, 0o644) },
		"a file others may write":      func(t *testing.T, file, dir string) { os.Chmod(file, 0o622) },
		"a directory others may enter": func(t *testing.T, file, dir string) { os.Chmod(dir, 0o755) },
		"a link": func(t *testing.T, file, dir string) {
			elsewhere := filepath.Join(dir, "elsewhere")
			if err := os.Rename(file, elsewhere); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(elsewhere, file); err != nil {
				t.Fatal(err)
			}
		},
		"the directory a link": func(t *testing.T, file, dir string) {
			real := dir + ".real"
			if err := os.Rename(dir, real); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, dir); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := cacheHome(t)
			path := writeConfig(t, manyServers(1000))
			want := wantAsLoadConfig(t, path, tg)
			file := forge(t, path, tg, "https://forged.example.org")
			spoil(t, file, dir)
			if got, err := LoadMatch(path, tg); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("LoadMatch = %+v, %v; want the config's own answer %+v", got, err, want)
			}
		})
	}
}

// TestCacheOfAnotherProgram: answers cached under another executable's
// identity (another build, whose checks may differ) are not taken.
func TestCacheOfAnotherProgram(t *testing.T) {
	cacheHome(t)
	path := writeConfig(t, manyServers(1000))
	tg := teamTarget(t)
	want := wantAsLoadConfig(t, path, tg)
	b, _ := os.ReadFile(path)
	k, _ := contentKey(sumOf(b))
	k.exe[3]++ // the executable rebuilt
	s := &Server{Match: "https://git.example.org/team/", Host: "https://forged.example.org"}
	file, _ := cacheFile(path)
	if err := os.WriteFile(file, encodeCache(k, []cacheRecord{{tg, s}}), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadMatch(path, tg); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("LoadMatch = %+v, %v; want the config's own answer", got, err)
	}
}

// TestCacheKeepsTheLatest: the cache keeps the latest cacheRecords
// answers, and every answer given is the config's own.
func TestCacheKeepsTheLatest(t *testing.T) {
	cacheHome(t)
	path := writeConfig(t, manyServers(1000))
	for round := range 2 {
		for i := range cacheRecords + 8 {
			tg, _ := GitTarget("https", fmt.Sprintf("git-%04d.example.org", i), "x.git")
			got := wantAsLoadConfig(t, path, tg)
			if want := fmt.Sprintf("https://auth-%04d.example.org/api/app", i); got == nil || got.Host != want {
				t.Fatalf("round %d, request %d: %+v, want the entry of %s", round, i, got, want)
			}
		}
	}
	b, _ := os.ReadFile(path)
	k, _ := contentKey(sumOf(b))
	file, dir := cacheFile(path)
	recs, ok := decodeCache(readCache(file, dir), k)
	if !ok || len(recs) != cacheRecords {
		t.Fatalf("the cache holds %d answers (%v), want %d", len(recs), ok, cacheRecords)
	}
	if h := recs[0].target.Host; h != fmt.Sprintf("git-%04d.example.org", cacheRecords+7) {
		t.Errorf("the latest answer cached is of %s", h)
	}
}

// TestCacheKeepsEveryField sets every field of a Server, the parsed match
// included, and checks that the cache gives it back whole: a field added
// to Server and not to appendServer fails here. Nil and empty lists stay
// apart, as LoadConfig keeps them.
func TestCacheKeepsEveryField(t *testing.T) {
	var s Server
	n := 0
	setAll(t, reflect.ValueOf(&s).Elem(), &n)
	k := cacheKey{exe: [4]uint64{1, 2, 3, 4}, size: 5, sum: 6}
	tg := teamTarget(t)
	empty := Server{Scopes: []string{}, RedirectPorts: []int{}}
	recs := []cacheRecord{{tg, &s}, {Target{Host: "registry.example.org"}, nil}, {Target{}, &empty}, {Target{Path: "/p"}, &Server{}}}
	got, ok := decodeCache(encodeCache(k, recs), k)
	if !ok || !reflect.DeepEqual(got, recs) {
		t.Fatalf("decoded %+v (%v)\nwant %+v", got, ok, recs)
	}
}

// setAll gives every string, int and bool in v, in structs and lists, a
// value of its own, and every list two elements.
func setAll(t *testing.T, v reflect.Value, n *int) {
	walk(t, v, "the cache (appendServer) keeps", func(v reflect.Value) {
		*n++
		switch v.Kind() {
		case reflect.String:
			v.SetString(fmt.Sprintf("value %d", *n))
		case reflect.Int:
			v.SetInt(int64(-*n * 1000))
		case reflect.Bool:
			v.SetBool(true)
		}
	})
}

// FuzzDecodeCache: whatever a cache file holds, decoding it never panics,
// and what it accepts reads back the same once written again.
func FuzzDecodeCache(f *testing.F) {
	k := cacheKey{exe: [4]uint64{1, 2, 3, 4}, size: 5, sum: 6}
	s := &Server{Match: "https://git.example.org/", Host: "https://a.example.org", Scopes: []string{"openid"}, RedirectPorts: []int{8080}, AllowHTTP: true}
	f.Add(encodeCache(k, []cacheRecord{{Target{Scheme: "https", Host: "git.example.org"}, s}, {Target{}, nil}}))
	f.Add(encodeCache(k, nil))
	f.Add([]byte(cacheMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, ok := decodeCache(b, k)
		if !ok {
			return
		}
		again, ok := decodeCache(encodeCache(k, recs), k)
		if !ok || !reflect.DeepEqual(again, recs) {
			t.Fatalf("accepted %q as %+v, which reads back as %+v (%v)", b, recs, again, ok)
		}
	})
}

// BenchmarkLoadMatchManyServers is LoadMatch of a config of a thousand
// entries, its answer cached.
func BenchmarkLoadMatchManyServers(b *testing.B) {
	benchLoadMatch(b, cacheAbove)
}

// BenchmarkLoadMatchManyServersParsed is the same with the cache off:
// every entry parsed and checked.
func BenchmarkLoadMatchManyServersParsed(b *testing.B) {
	benchLoadMatch(b, -1)
}

func benchLoadMatch(b *testing.B, above int) {
	cacheHome(b)
	saved := cacheAbove
	cacheAbove = above
	b.Cleanup(func() { cacheAbove = saved })
	path := writeConfig(b, manyServers(1000))
	tg := teamTarget(b)
	b.ReportAllocs()
	for b.Loop() {
		if s, err := LoadMatch(path, tg); s == nil || err != nil {
			b.Fatalf("LoadMatch = %v, %v", s, err)
		}
	}
}

// TestCacheSweepsWhatIsLeftBehind: a write of the cache removes the
// temporary files of writers killed before their rename, once they are
// older than any live write, and cache files that nothing has written for
// staleAge (a config moved away, an old program); it leaves young files,
// other files, and whatever is not a regular file of the user's, and
// follows no link.
func TestCacheSweepsWhatIsLeftBehind(t *testing.T) {
	dir := cacheHome(t)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(outside, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	files := []struct {
		name string
		age  time.Duration
		link bool
		gone bool
	}{
		{".config-matches-1234567", 2 * orphanAge, false, true},
		{".config-matches-7654321", 0, false, false}, // a write under way
		{"config-matches-0123456789abcdef", staleAge + time.Hour, false, true},
		{"config-matches-fedcba9876543210", staleAge - time.Hour, false, false},
		{"token-store.json", 2 * staleAge, false, false},
		{".token-store.json.123.tmp", 2 * staleAge, false, false},
		{"config-matches-link", 2 * staleAge, true, false},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if f.link {
			if err := os.Symlink(outside, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-f.age), now.Add(-f.age)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(outside, now.Add(-2*staleAge), now.Add(-2*staleAge)); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "config-matches-dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	// Another user's file, where this test may make one (as root).
	foreign := filepath.Join(dir, "config-matches-foreign")
	if os.Geteuid() != 0 {
		t.Log("not root: no file of another user's to leave alone")
	} else {
		if err := os.WriteFile(foreign, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(foreign, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(foreign, now.Add(-2*staleAge), now.Add(-2*staleAge)); err != nil {
			t.Fatal(err)
		}
	}

	path := writeConfig(t, manyServers(1000))
	wantAsLoadConfig(t, path, teamTarget(t))
	for _, f := range files {
		_, err := os.Lstat(filepath.Join(dir, f.name))
		if gone := err != nil; gone != f.gone {
			t.Errorf("%s (%v old): gone = %v, want %v", f.name, f.age, gone, f.gone)
		}
	}
	if !exists(outside) || !exists(filepath.Join(dir, "config-matches-dir")) {
		t.Error("the sweep removed a link's target or a directory")
	}
	if os.Geteuid() == 0 && !exists(foreign) {
		t.Error("the sweep removed another user's file")
	}
	if file, _ := cacheFile(path); !exists(file) {
		t.Error("the sweep removed the cache file just written")
	}
}

// sumOf is the Sum of config content b.
func sumOf(b []byte) Sum { return Sum{uint64(len(b)), xxhash.Sum64(b)} }
