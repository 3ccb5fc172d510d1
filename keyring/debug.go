package keyring

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/oidc-auth/oidc-auth/flows"
)

// noteRecord adds the secrets of a record read or written to what ctx's
// debug output masks.
func noteRecord(ctx context.Context, rec *Record) {
	if rec == nil || !flows.DebugEnabled(ctx, flows.DebugDecisions) {
		return
	}
	flows.NoteSecret(ctx, rec.Token.AccessToken, rec.Token.RefreshToken, rec.Token.IDToken)
	if rec.Server != nil {
		flows.NoteSecret(ctx, rec.Server.ClientSecret)
	}
}

// noteEntries is noteRecord for each entry of a list.
func noteEntries(ctx context.Context, list []Entry) {
	for i := range list {
		noteRecord(ctx, &list[i].Record)
	}
}

// ReasonClass names the kind of reason err gives for not using the
// keychain, the same in every process and at every time: "did not answer",
// "no D-Bus session", "no Secret Service", "locked", or "error" and a hash
// of the keychain's message without its numbers. The fallback warning is
// shown once per class (see AutoStore).
func ReasonClass(err error) string {
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		return "not available"
	}
	var nb errNoSessionBus
	switch {
	case ue.Err == nil:
		return "did not answer"
	case errors.As(ue.Err, &nb):
		return "no D-Bus session"
	}
	msg := strings.ToLower(ue.Err.Error())
	for _, c := range []struct{ class, words string }{
		{"no Secret Service", "org.freedesktop.secrets|serviceunknown|not provided by any|no such interface"},
		{"locked", "locked|prompt|dismissed|user canceled|interaction is not allowed"},
	} {
		for w := range strings.SplitSeq(c.words, "|") {
			if strings.Contains(msg, w) {
				return c.class
			}
		}
	}
	stable := strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return -1
		}
		return r
	}, msg)
	sum := sha256.Sum256([]byte(stable))
	return "error " + hex.EncodeToString(sum[:6])
}

// warnedPath is the file beside the lock files that lists, one a line, the
// reason classes whose fallback warning was already shown on this machine.
func (s *AutoStore) warnedPath() string {
	return filepath.Join(s.File.lockDir(), "keychain-warned")
}

// warnedBefore reports whether the fallback warning for class was shown
// before, by this or another process. A marker that is a link, not a
// regular file, or not the user's own counts as none.
func (s *AutoStore) warnedBefore(class string) bool {
	f, err := openNoFollow(s.warnedPath(), os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || checkFile(s.warnedPath(), fi, roleLock) != nil {
		return false
	}
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for sc.Scan() {
		if sc.Text() == class {
			return true
		}
	}
	return false
}

// rememberWarned adds class to the warned marker. It is best effort, and
// writes nothing through a link or into a directory the store does not
// trust: the warning is then shown again next time.
func (s *AutoStore) rememberWarned(ctx context.Context, class string) {
	if s.File.checkDir() != nil || ensureLockDir(s.File.lockDir()) != nil {
		return
	}
	f, err := openNoFollow(s.warnedPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || checkFile(s.warnedPath(), fi, roleLock) != nil {
		return
	}
	if _, err := f.WriteString(class + "\n"); err == nil {
		flows.Debugf(ctx, flows.DebugDetails, "store: the warning for %q is remembered in %s", class, s.warnedPath())
	}
}
