package helper

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

// TestWriteBearerTokenWhileAReaderHasItOpen replaces the token while a
// job's reader, in another process, has the file open: on Windows the
// rename over it is refused until the reader closes it, so the write
// retries rather than failing.
func TestWriteBearerTokenWhileAReaderHasItOpen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bt_u1")
	if err := WriteBearerToken(path, "first"); err != nil {
		t.Fatal(err)
	}
	wait := testfs.StartFileReader(t, path)
	err := WriteBearerToken(path, "second")
	wait()
	if err != nil {
		t.Fatalf("the new token is not written: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "second\n" {
		t.Errorf("file holds %q, %v; want the new token", b, err)
	}
}

func TestBearerTokenPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"BEARER_TOKEN_FILE first", map[string]string{"BEARER_TOKEN_FILE": "/jobs/1/token", "XDG_RUNTIME_DIR": "/run/user/1000"}, "/jobs/1/token"},
		{"then XDG_RUNTIME_DIR", map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, filepath.Join("/run/user/1000", "bt_u1000")},
		{"else the temporary directory", map[string]string{}, filepath.Join(tempDir(), "bt_u1000")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := BearerTokenPath(func(k string) string { return tt.env[k] }, 1000)
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if runtime.GOOS != "windows" && tempDir() != "/tmp" {
		t.Errorf("the last resort is %s, not /tmp", tempDir())
	}
}

func TestWriteBearerToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "bt_u1")
	for _, tok := range []string{"first", "second"} {
		if err := WriteBearerToken(path, tok); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != tok+"\n" {
			t.Fatalf("file holds %q, %v; want %q", b, err, tok+"\n")
		}
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", fi.Mode().Perm())
		}
		// A file of ours that others may read is replaced by a private one.
		os.Chmod(path, 0o644)
		if err := WriteBearerToken(path, "third"); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v after rewriting a 0644 file, want 0600", fi.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestWriteBearerTokenRefuses(t *testing.T) {
	t.Parallel()
	t.Run("symbolic link", func(t *testing.T) {
		t.Parallel()
		testfs.RequireSymlinks(t)
		dir := t.TempDir()
		target, link := filepath.Join(dir, "target"), filepath.Join(dir, "bt_u1")
		os.WriteFile(target, []byte("keep\n"), 0o600)
		if err := os.Symlink(target, link); err != nil {
			t.Skip("no symbolic links here:", err)
		}
		err := WriteBearerToken(link, "secret")
		if err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Fatalf("got %v, want a refusal of the link", err)
		}
		if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
			t.Error("the link was replaced")
		}
		if b, _ := os.ReadFile(target); string(b) != "keep\n" {
			t.Errorf("the link's target was written: %q", b)
		}
	})
	t.Run("directory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := WriteBearerToken(dir, "secret"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("got %v, want a refusal of the directory", err)
		}
	})
	t.Run("a directory others may write", func(t *testing.T) {
		t.Parallel()
		if runtime.GOOS == "windows" {
			t.Skip("Windows has no mode bits for other users")
		}
		for _, tc := range []struct {
			mode os.FileMode
			ok   bool
		}{{0o777, false}, {0o777 | os.ModeSticky, true}, {0o755, true}} {
			dir := t.TempDir()
			if err := os.Chmod(dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			err := WriteBearerToken(filepath.Join(dir, "bt_u1"), "secret")
			if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "not sticky")) {
				t.Errorf("directory mode %v: got %v, want ok=%v", tc.mode, err, tc.ok)
			}
		}
	})
	t.Run("another user's file", func(t *testing.T) {
		t.Parallel()
		if runtime.GOOS == "windows" {
			t.Skip("Windows has no Unix file owner to check; the token lives in the user's own profile there")
		}
		if os.Geteuid() != 0 {
			t.Skip("needs root to give a file to another user")
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "bt_u0")
		os.WriteFile(path, []byte("theirs\n"), 0o644)
		if err := os.Chown(path, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		err := WriteBearerToken(path, "secret")
		if err == nil || !strings.Contains(err.Error(), "belongs to user 4242") {
			t.Fatalf("got %v, want a refusal of user 4242's file", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "theirs\n" {
			t.Errorf("the other user's file was replaced: %q", b)
		}
	})
}
