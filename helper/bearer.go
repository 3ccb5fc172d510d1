package helper

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// BearerTokenFileEnv names the variable of WLCG Bearer Token Discovery
// that points at the file holding a bearer token.
const BearerTokenFileEnv = "BEARER_TOKEN_FILE"

// BearerTokenPath returns where a bearer token goes for the tools that
// follow WLCG Bearer Token Discovery (HTCondor, XRootD, dCache, Rucio,
// htgettoken): $BEARER_TOKEN_FILE, else $XDG_RUNTIME_DIR/bt_u<uid>, else
// bt_u<uid> in the system's temporary directory (/tmp on Unix), where uid
// is the effective user id. getenv reads the environment (os.Getenv).
func BearerTokenPath(getenv func(string) string, uid int) string {
	if p := getenv(BearerTokenFileEnv); p != "" {
		return p
	}
	name := "bt_u" + strconv.Itoa(uid)
	if dir := getenv("XDG_RUNTIME_DIR"); dir != "" {
		return filepath.Join(dir, name)
	}
	return filepath.Join(tempDir(), name)
}

// WriteBearerToken writes token and a newline to path, as WLCG Bearer
// Token Discovery readers expect it: atomically, with keyring.ReplaceFile
// (a synced temporary file in the same directory, mode 0600, renamed over
// path, retried on Windows while a reader holds the file open), so that a
// reader never sees half a token. It refuses, leaving path as it is, a
// path that is a symbolic link or not a regular file, and on Unix one that
// another user owns (on a shared /tmp, such a file was put there by
// someone else) or one in a directory that others may write and that is
// not sticky.
func WriteBearerToken(path, token string) error {
	if fi, err := os.Lstat(path); err == nil {
		if err := checkBearerFile(path, fi); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("helper: bearer token file %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if di, err := os.Stat(dir); err == nil && !isWindows() && di.Mode().Perm()&0o002 != 0 && di.Mode()&fs.ModeSticky == 0 {
		// Anyone may rename another file over the token there; a sticky
		// directory like /tmp forbids that.
		return fmt.Errorf("helper: bearer token file %s: its directory %s is writable by other users and not sticky; choose another $BEARER_TOKEN_FILE (or chmod o-w %s)", path, dir, dir)
	}
	if err := keyring.ReplaceFile(path, []byte(token+"\n"), 0o600); err != nil {
		return fmt.Errorf("helper: the bearer token is not saved: %w", err)
	}
	return nil
}

// checkBearerFile refuses an existing bearer token file that is a link,
// not a regular file, or (on Unix) another user's.
func checkBearerFile(path string, fi fs.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(path)
		return fmt.Errorf("helper: the bearer token file %s is a symbolic link (to %s), which is not written through; remove it, or set %s to another path", path, target, BearerTokenFileEnv)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("helper: the bearer token file %s is not a regular file; remove it, or set %s to another path", path, BearerTokenFileEnv)
	}
	if uid, ok := fileOwner(fi); ok && uid != os.Geteuid() {
		return fmt.Errorf("helper: the bearer token file %s belongs to user %d, not to you; remove it, or set %s to another path", path, uid, BearerTokenFileEnv)
	}
	return nil
}
