// Package fast answers, in the small commands git, docker and scripts
// start, the request they make most often: the token of a login that is
// stored and still valid, in the token file or, on Linux and the BSDs, in
// the keychain (the Secret Service). It links none of the HTTP, OIDC and
// go-keyring code of oidc-auth-core, so that such a request costs about
// what starting any small program costs.
//
// It answers only when it can tell that oidc-auth-core would give the same
// answer without asking anyone or changing anything, and it reads what
// oidc-auth-core reads the same way: the config through internal/config,
// the token file's entry through internal/jsonscan, the keychain's items
// through internal/secretservice, store keys through internal/storekey,
// git's protocol through internal/gitproto. For anything else it reports
// that it did not answer, having written nothing, and the command hands
// the request over to oidc-auth-core: no login, a token within a minute of
// its end, debug output, a file or directory that is not private to the
// user, an entry it cannot be sure to read as encoding/json does, a
// keychain item it would have to unlock, a keychain that is slow to answer
// or that the core would not read (a forced one without a session bus, or
// one found silent a moment ago). Without a session bus the default store
// is the token file, which it reads. When the token is about to expire and another process
// holds the login's lock (it is refreshing), it waits for that process and
// answers with the new token, so that a burst of gets starts one
// oidc-auth-core, not one each.
//
// On Linux the commands are internal/lean, which cannot parse the config
// or URLs, and this package runs in oidc-auth-core instead, before its
// helpers: there each answer writes down the decisions behind it
// (Remember, internal/memo), from which internal/lean gives the same
// answer to the same request without the core.
package fast

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/config"
	"github.com/oidc-auth/oidc-auth/internal/logins"
	"github.com/oidc-auth/oidc-auth/internal/secretservice"
	"github.com/oidc-auth/oidc-auth/internal/storekey"
	"github.com/oidc-auth/oidc-auth/internal/tokenrec"
)

// source is where oidc-auth-core reads the logins in this environment.
type source = logins.Source

// sources returns where oidc-auth-core reads the logins in this
// environment; ok is false when it would print debug output, or when the
// environment holds a setting the cached answer does not cover, or for a
// keychain the command does not read itself: one that is not the Secret
// Service, a forced one without a session bus, or one that another
// process found silent a moment ago (its marker beside the locks).
func sources() (s source, ok bool) {
	if os.Getenv("OIDC_AUTH_DEBUG") != "" {
		return s, false
	}
	backend := strings.ToLower(strings.TrimSpace(os.Getenv("OIDC_AUTH_STORE")))
	switch backend {
	case "", "auto", "keychain", "file":
	default:
		return s, false
	}
	if p := os.Getenv("OIDC_TOKEN_FILE"); p != "" {
		return source{File: p, Locks: p}, backend != "keychain"
	}
	p, err := storekey.FilePath("oidc-auth", os.UserCacheDir)
	if err != nil {
		return s, false
	}
	if backend == "file" {
		return source{File: p, Locks: p}, true
	}
	if !secretservice.Supported {
		return s, false // the Keychain of macOS, the Credential Manager of Windows
	}
	if secretservice.BusMissing() != "" {
		// keyring finds the keychain unavailable: a forced keychain is an
		// error, the default store reads the file, with no warning (only a
		// save warns), as on CI runners and over SSH.
		if backend == "keychain" {
			return s, false
		}
		return source{File: p, Locks: p}, true
	}
	if backend == "keychain" {
		return source{Keychain: true, Locks: p}, true
	}
	switch fi, err := os.Lstat(filepath.Join(lockDir(p), "keychain-silent")); {
	case err == nil && time.Since(fi.ModTime()) < keychainSilentFor: // keyring skips the keychain now
		return s, false
	case err != nil && !errors.Is(err, fs.ErrNotExist): // no telling
		return s, false
	}
	return source{Keychain: true, File: p, Locks: p}, true
}

// keychainSilentFor is how long keyring skips a keychain that did not
// answer (see secretservice.SilentFor).
const keychainSilentFor = secretservice.SilentFor

// lockDir is the directory of the lock files of the token file at path,
// as keyring names it.
func lockDir(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".locks")
}

// match returns the config entry that answers t, nil for none, as the
// helpers find it, and the Sum of the config's content; ok is false when
// the config cannot be read or checked (oidc-auth-core then says why).
func match(t config.Target) (*config.Server, config.Sum, bool) {
	path, err := config.ConfigPath()
	if err != nil {
		return nil, config.Sum{}, false
	}
	s, sum, err := config.LoadMatchSum(path, t)
	return s, sum, err == nil
}

// forServer reports whether rec is the login of the server at host, as
// flows.ForServer decides.
func forServer(rec *tokenrec.Record, host string) bool {
	return rec.Host == "" || storekey.SameServer(rec.Host, host)
}

// cached returns the record of key in the token file at path when it
// holds a token for host that is valid now (flows.Cached). When the token
// is no longer valid and another process is refreshing it, it waits for
// that process and reads the file again.
func cached(src source, key, host string) (*tokenrec.Record, bool) {
	rec, ok := find(src, key)
	return fresh(src, key, host, rec, ok)
}

// fresh is cached for rec, the record of key already read (ok false for
// none).
func fresh(src source, key, host string, rec tokenrec.Record, ok bool) (*tokenrec.Record, bool) {
	if !ok || !forServer(&rec, host) {
		return nil, false
	}
	if rec.Valid(time.Now()) {
		return &rec, true
	}
	if !waitForRefresh(src.Locks, key) {
		return nil, false
	}
	// The new token, or, when this process holds the hand-over lock now,
	// a token another process's refresh stored just before: the command
	// then answers, and starts no oidc-auth-core that would find it too.
	if rec, ok = find(src, key); ok && forServer(&rec, host) && rec.Valid(time.Now()) {
		return &rec, true
	}
	return nil, false
}

// find reads the record of key where oidc-auth-core reads it (see
// logins.Source.Lookup).
func find(src source, key string) (tokenrec.Record, bool) {
	return src.Lookup(key, keychainWait, lookup)
}

// lookup reads the entry of key from the token file at path.
func lookup(path, key string) (tokenrec.Record, bool) {
	raw, ok := readEntry(path, key)
	if !ok {
		return tokenrec.Record{}, false
	}
	return tokenrec.Decode(raw)
}
