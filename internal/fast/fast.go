// Package fast answers, in the small commands git, docker and scripts
// start, the request they make most often: the token of a login that is
// stored in the token file and still valid. It links none of the HTTP,
// OIDC and keychain code of oidc-auth-core, so that such a request costs
// about what starting any small program costs.
//
// It answers only when it can tell that oidc-auth-core would give the same
// answer without asking anyone or changing anything, and it reads what
// oidc-auth-core reads the same way: the config through internal/config,
// the token file's entry through internal/jsonscan, store keys through
// internal/storekey, git's protocol through internal/gitproto. For
// anything else it reports that it did not answer, having written nothing,
// and the command hands the request over to oidc-auth-core: no login, a
// token within a minute of its end, the keychain, debug output, a file or
// directory that is not private to the user, an entry it cannot be sure to
// read as encoding/json does. When the token is about to expire and another
// process holds the login's lock (it is refreshing), it waits for that
// process and answers with the new token, so that a burst of gets starts
// one oidc-auth-core, not one each.
package fast

import (
	"os"
	"strings"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/config"
	"github.com/oidc-auth/oidc-auth/internal/storekey"
)

// validityMargin is flows.ValidityMargin: a token is handed out while
// more than this is left of it.
const validityMargin = 60 * time.Second

// refreshWait bounds the wait for another process's refresh: the lock
// timeout of the helpers (flows.DefaultLockTimeout).
var refreshWait = 30 * time.Second

// tokenFile returns the token file oidc-auth-core reads in this
// environment; ok is false when it would read the keychain, or print debug
// output, or when the environment holds a setting the cached answer does
// not cover.
func tokenFile() (path string, ok bool) {
	if os.Getenv("OIDC_AUTH_DEBUG") != "" {
		return "", false
	}
	backend := strings.ToLower(strings.TrimSpace(os.Getenv("OIDC_AUTH_STORE")))
	switch backend {
	case "", "auto", "keychain", "file":
	default:
		return "", false
	}
	if p := os.Getenv("OIDC_TOKEN_FILE"); p != "" {
		return p, backend != "keychain"
	}
	if backend != "file" {
		return "", false
	}
	p, err := storekey.FilePath("oidc-auth", os.UserCacheDir)
	return p, err == nil
}

// match returns the config entry that answers t, nil for none, as the
// helpers find it; ok is false when the config cannot be read or checked
// (oidc-auth-core then says why).
func match(t config.Target) (*config.Server, bool) {
	path, err := config.ConfigPath()
	if err != nil {
		return nil, false
	}
	s, err := config.LoadMatch(path, t)
	return s, err == nil
}

// valid reports whether rec's access token may be handed out at t, as
// flows.Token.Valid decides.
func (rec *record) valid(t time.Time) bool {
	return rec.access != "" && t.Add(validityMargin).Unix() < rec.expires
}

// forServer reports whether rec is the login of the server at host, as
// flows.ForServer decides.
func (rec *record) forServer(host string) bool {
	return rec.host == "" || storekey.SameServer(rec.host, host)
}

// cached returns the record of key in the token file at path when it
// holds a token for host that is valid now (flows.Cached). When the token
// is no longer valid and another process is refreshing it, it waits for
// that process and reads the file again.
func cached(path, key, host string) (*record, bool) {
	rec, ok := lookup(path, key)
	return fresh(path, key, host, rec, ok)
}

// fresh is cached for rec, the record of key already read (ok false for
// none).
func fresh(path, key, host string, rec record, ok bool) (*record, bool) {
	if !ok || !rec.forServer(host) {
		return nil, false
	}
	if rec.valid(time.Now()) {
		return &rec, true
	}
	if !waitForRefresh(path, key) {
		return nil, false
	}
	// The new token, or, when this process holds the hand-over lock now,
	// a token another process's refresh stored just before: the command
	// then answers, and starts no oidc-auth-core that would find it too.
	if rec, ok = lookup(path, key); ok && rec.forServer(host) && rec.valid(time.Now()) {
		return &rec, true
	}
	return nil, false
}

// lookup reads the entry of key from the token file at path.
func lookup(path, key string) (record, bool) {
	raw, ok := readEntry(path, key)
	if !ok {
		return record{}, false
	}
	return decodeRecord(raw)
}
