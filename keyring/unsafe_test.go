package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// victimContent is what a file that a link points the store at holds.
const victimContent = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI victim@host\n"

// writeVictim writes a file that must not change.
func writeVictim(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(victimContent), 0o600); err != nil {
		t.Fatal(err)
	}
}

// symlink makes link point to target, skipping the test where links
// cannot be made (Windows without the privilege).
func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
		t.Fatal(err)
	}
	testfs.RequireSymlinks(t)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// storeOps are the operations of a file store that must each refuse an
// untrusted store alike.
func storeOps(ctx context.Context) []struct {
	name string
	do   func(s *keyring.FileStore) error
} {
	return []struct {
		name string
		do   func(s *keyring.FileStore) error
	}{
		{"Get", func(s *keyring.FileStore) error { _, err := s.Get(ctx, "auth.example.org"); return err }},
		{"Put", func(s *keyring.FileStore) error {
			return s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("new")})
		}},
		{"Remove", func(s *keyring.FileStore) error { return s.Remove(ctx, "auth.example.org") }},
		{"List", func(s *keyring.FileStore) error { _, err := s.List(ctx); return err }},
		{"Lock", func(s *keyring.FileStore) error {
			unlock, err := s.Lock(ctx, "auth.example.org")
			if err == nil {
				unlock()
			}
			return err
		}},
	}
}

// wantUnsafe checks that err is an *UnsafeError for path with exactly the
// message want.
func wantUnsafe(t *testing.T, err error, path, want string) {
	t.Helper()
	var ue *keyring.UnsafeError
	if !errors.As(err, &ue) {
		t.Errorf("err = %v (%T), want an *UnsafeError", err, err)
		return
	}
	if ue.Path != path {
		t.Errorf("UnsafeError.Path = %s, want %s", ue.Path, path)
	}
	if err.Error() != want {
		t.Errorf("error\n got %s\nwant %s", err, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is not one line", err)
	}
}

// TestFileStoreRefusesSymlinks points the store file, its directory, its
// lock directory and its lock files at other places with symbolic links:
// every operation refuses, naming the link and its target, and nothing is
// written through the link, nor is the link replaced.
func TestFileStoreRefusesSymlinks(t *testing.T) {
	t.Parallel()
	testfs.RequireSymlinks(t)
	ctx := context.Background()
	const fileFix = "; oidc-auth does not follow links to its token store: remove the link (rm %[1]s) or point OIDC_TOKEN_FILE at a real file"
	tests := []struct {
		name string
		// setup makes the links in dir and returns the store's path, the
		// refused link, its target, and the expected message.
		setup func(t *testing.T, dir string) (path, link, target, want string)
		ops   []string // the operations that refuse; the others are not affected
	}{
		{"store file to another file", func(t *testing.T, dir string) (string, string, string, string) {
			victim := filepath.Join(dir, "home", ".ssh", "authorized_keys")
			writeVictim(t, victim)
			path := filepath.Join(dir, "cache", "token-store.json")
			symlink(t, victim, path)
			return path, path, victim, fmt.Sprintf("keyring: %[1]s is a symbolic link to %[2]s"+fileFix, path, victim)
		}, []string{"Get", "Put", "Remove", "List"}},
		{"store file to an empty file", func(t *testing.T, dir string) (string, string, string, string) {
			victim := filepath.Join(dir, "home", ".ssh", "authorized_keys")
			writeVictim(t, victim)
			if err := os.WriteFile(victim, nil, 0o600); err != nil { // reads as an empty store
				t.Fatal(err)
			}
			path := filepath.Join(dir, "cache", "token-store.json")
			symlink(t, victim, path)
			return path, path, victim, fmt.Sprintf("keyring: %[1]s is a symbolic link to %[2]s"+fileFix, path, victim)
		}, []string{"Get", "Put", "Remove", "List"}},
		{"store file to a missing file", func(t *testing.T, dir string) (string, string, string, string) {
			target := filepath.Join(dir, "elsewhere", "new-file")
			path := filepath.Join(dir, "cache", "token-store.json")
			symlink(t, target, path)
			return path, path, target, fmt.Sprintf("keyring: %[1]s is a symbolic link to %[2]s"+fileFix, path, target)
		}, []string{"Get", "Put", "Remove", "List"}},
		{"store file by a relative link", func(t *testing.T, dir string) (string, string, string, string) {
			victim := filepath.Join(dir, "cache", "victim")
			writeVictim(t, victim)
			path := filepath.Join(dir, "cache", "token-store.json")
			symlink(t, "victim", path)
			return path, path, victim, fmt.Sprintf("keyring: %[1]s is a symbolic link to victim"+fileFix, path)
		}, []string{"Get", "Put", "Remove", "List"}},
		{"store directory", func(t *testing.T, dir string) (string, string, string, string) {
			real := filepath.Join(dir, "scratch")
			if err := os.Mkdir(real, 0o700); err != nil {
				t.Fatal(err)
			}
			writeVictim(t, filepath.Join(real, "token-store.json"))
			link := filepath.Join(dir, "cache", "oidc-auth")
			symlink(t, real, link)
			return filepath.Join(link, "token-store.json"), link, filepath.Join(real, "token-store.json"), fmt.Sprintf(
				"keyring: %[1]s is a symbolic link to %[2]s; oidc-auth does not follow a link to its token store's directory: replace the link with a directory (rm %[1]s && mkdir -m 700 %[1]s) or point OIDC_TOKEN_FILE at a file in a real directory",
				link, real)
		}, []string{"Get", "Put", "Remove", "List", "Lock"}},
		{"lock directory", func(t *testing.T, dir string) (string, string, string, string) {
			path := filepath.Join(dir, "cache", "token-store.json")
			writeVictim(t, path) // replaced by a store
			if err := os.WriteFile(path, []byte(`{"https://auth.example.org": {"token": {"access_token": "old", "expires": 1767225600}, "stored_at": 1}}`), 0o600); err != nil {
				t.Fatal(err)
			}
			real := filepath.Join(dir, "elsewhere")
			if err := os.Mkdir(real, 0o700); err != nil {
				t.Fatal(err)
			}
			victim := filepath.Join(real, "store.lock")
			writeVictim(t, victim)
			link := filepath.Join(dir, "cache", ".token-store.json.locks")
			symlink(t, real, link)
			return path, link, victim, fmt.Sprintf(
				"keyring: %[1]s is a symbolic link to %[2]s; oidc-auth does not follow a link to its lock directory: remove the link (rm %[1]s); oidc-auth makes the directory again",
				link, real)
		}, []string{"Put", "Remove", "Lock"}},
		{"lock file", func(t *testing.T, dir string) (string, string, string, string) {
			path := filepath.Join(dir, "cache", "token-store.json")
			victim := filepath.Join(dir, "home", ".bashrc")
			writeVictim(t, victim)
			link := keyring.LockPath(&keyring.FileStore{Path: path}, "auth.example.org")
			symlink(t, victim, link)
			return path, link, victim, fmt.Sprintf(
				"keyring: %[1]s is a symbolic link to %[2]s; oidc-auth does not follow links in its lock directory: remove the link (rm %[1]s); oidc-auth makes the file again",
				link, victim)
		}, []string{"Lock"}},
		{"store lock file", func(t *testing.T, dir string) (string, string, string, string) {
			path := filepath.Join(dir, "cache", "token-store.json")
			victim := filepath.Join(dir, "home", ".profile")
			writeVictim(t, victim)
			link := filepath.Join(dir, "cache", ".token-store.json.locks", "store.lock")
			symlink(t, victim, link)
			return path, link, victim, fmt.Sprintf(
				"keyring: %[1]s is a symbolic link to %[2]s; oidc-auth does not follow links in its lock directory: remove the link (rm %[1]s); oidc-auth makes the file again",
				link, victim)
		}, []string{"Put"}},
	}
	for _, tt := range tests {
		for _, op := range storeOps(ctx) {
			if !slices.Contains(tt.ops, op.name) {
				continue
			}
			t.Run(tt.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				path, link, target, want := tt.setup(t, dir)
				targetBefore, targetErr := os.ReadFile(target)
				linkTarget, _ := os.Readlink(link)
				before := tree(t, dir)

				err := op.do(newFileStore(path))
				wantUnsafe(t, err, link, want)

				if got, err := os.ReadFile(target); !bytes.Equal(got, targetBefore) || (err == nil) != (targetErr == nil) {
					t.Errorf("%s: the link's target %s changed to %q (%v)", op.name, target, got, err)
				}
				if got, err := os.Readlink(link); err != nil || got != linkTarget {
					t.Errorf("%s: the link is now %q (%v), was a link to %s", op.name, got, err, linkTarget)
				}
				if after := tree(t, dir); !reflect.DeepEqual(after, before) {
					t.Errorf("%s changed the files:\n got %q\nwant %q", op.name, after, before)
				}
			})
		}
	}
}

// TestFileStoreAllowsLinksAbove keeps a store below a linked directory, as
// clusters link ~/.cache to scratch space: only the store's own directory
// must be real.
func TestFileStoreAllowsLinksAbove(t *testing.T) {
	t.Parallel()
	testfs.RequireSymlinks(t)
	ctx := context.Background()
	dir := t.TempDir()
	scratch := filepath.Join(dir, "scratch", "cache")
	if err := os.MkdirAll(scratch, 0o700); err != nil {
		t.Fatal(err)
	}
	symlink(t, scratch, filepath.Join(dir, "home", ".cache"))
	path := filepath.Join(dir, "home", ".cache", "oidc-auth", "token-store.json")
	s := newFileStore(path)
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("a")}); err != nil {
		t.Fatal(err)
	}
	if rec, err := s.Get(ctx, "auth.example.org"); err != nil || rec.Token.AccessToken != "a" {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	unlock, err := s.Lock(ctx, "auth.example.org")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if _, err := os.Stat(filepath.Join(scratch, "oidc-auth", "token-store.json")); err != nil {
		t.Errorf("the store is not in the linked directory: %v", err)
	}
}

// TestAutoStoreMarkerNotFollowed points the marker of a silent keychain at
// another file: the fallback still works and the file is left alone.
func TestAutoStoreMarkerNotFollowed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kc := newFakeKeychain()
	kc.block = make(chan struct{})
	defer close(kc.block)
	var warn strings.Builder
	s := autoStore(t, kc, &warn)
	victim := filepath.Join(t.TempDir(), "victim")
	writeVictim(t, victim)
	old := time.Now().Add(-time.Hour) // too old to count as a fresh marker
	if err := os.Chtimes(victim, old, old); err != nil {
		t.Fatal(err)
	}
	symlink(t, victim, filepath.Join(filepath.Dir(s.File.Path), ".token-store.json.locks", "keychain-silent"))
	if err := s.Put(ctx, "a.example.org", &keyring.Record{Token: sampleToken("a")}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warn.String(), "did not answer within 150ms") {
		t.Errorf("the keychain was not tried: warning %q", warn.String())
	}
	if got := readBytes(t, victim); string(got) != victimContent {
		t.Errorf("the marker's link target changed to %q", got)
	}
	if fi, err := os.Stat(victim); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("the marker's link target was touched: %v", err)
	}
	if rec, err := s.File.Get(ctx, "a.example.org"); err != nil || rec.Token.AccessToken != "a" {
		t.Errorf("the fallback file: %+v, %v", rec, err)
	}
}

// TestWriteFileAtomicStillFollowsSymlinks keeps the documented behaviour of
// WriteFileAtomic for the user's own configuration files: it writes through
// a link, while the store refuses the same link.
func TestWriteFileAtomicStillFollowsSymlinks(t *testing.T) {
	t.Parallel()
	testfs.RequireSymlinks(t)
	dir := t.TempDir()
	target := filepath.Join(dir, "dotfiles", "config.json")
	writeVictim(t, target)
	link := filepath.Join(dir, "docker", "config.json")
	symlink(t, target, link)
	var ue *keyring.UnsafeError
	if _, err := newFileStore(link).List(context.Background()); !errors.As(err, &ue) {
		t.Fatalf("the store took a link: %v", err)
	}
	if err := keyring.WriteFileAtomic(link, []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	if got := readBytes(t, target); string(got) != "{}\n" {
		t.Errorf("the link's target holds %q", got)
	}
}

// tree lists the files below dir with their contents (links as "->
// target"), leaving out the contents of lock files, which lock holders
// write.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out = append(out, rel+" -> "+target)
		case fi.IsDir():
			out = append(out, rel+"/ "+fi.Mode().Perm().String())
		case strings.HasSuffix(p, ".lock"):
			out = append(out, rel)
		default:
			b, _ := os.ReadFile(p)
			out = append(out, rel+" "+fi.Mode().String()+" "+string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
