package secretservice

import (
	"errors"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/jsonscan/scan"
	"github.com/oidc-auth/oidc-auth/internal/tokenrec"
)

// What the small commands share of how keyring reads the keychain
// (internal/fast, internal/lean).
const (
	// LoginService is the service of oidc-auth's logins
	// (keyring.DefaultAppName).
	LoginService = "oidc-auth"
	// ReadWait bounds the commands' read of the keychain. A keychain that
	// does not answer in time is left to oidc-auth-core, which waits for
	// it as long as its own bound and then tells later processes to skip
	// it for a while.
	ReadWait = time.Second
	// SilentFor is how long keyring skips a keychain that did not answer,
	// after the time of its marker (keyring's silentFor). An older marker
	// is history: keyring reads the keychain again, and so do the
	// commands.
	SilentFor = 5 * time.Minute
)

// errSilent is the answer of a keychain that did not answer in time.
var errSilent = errors.New("secretservice: the keychain did not answer in time")

// Record reads the login record of key, of service's items, as keyring's
// KeychainStore reads it: one item holding the record as JSON, or one
// naming the parts of a record split into several (Join), within wait.
// found is false for no item; ok is false for an item the small commands
// leave to oidc-auth-core: one Get does not read, a keychain that does not
// answer in time (the core waits for it as long as its own bound and then
// tells later processes to skip it for a while), a split record that does
// not add up, a record that is not JSON in UTF-8 (scan.Valid) or not
// decoded the way keyring decodes it (tokenrec.Decode).
func Record(service, key string, wait time.Duration) (rec tokenrec.Record, found, ok bool) {
	get := func(users ...string) ([]string, error) { return getWithin(wait, service, users...) }
	values, err := get(key)
	switch {
	case errors.Is(err, ErrNotFound):
		return tokenrec.Record{}, false, true
	case err != nil:
		return tokenrec.Record{}, false, false
	}
	v, err := Join(key, values[0], ErrNotFound, get)
	if err != nil {
		return tokenrec.Record{}, false, false // a split record keyring calls corrupt, or a keychain that fails
	}
	b := []byte(v)
	if !scan.Valid(b) {
		return tokenrec.Record{}, false, false
	}
	rec, ok = tokenrec.Decode(b)
	return rec, ok, ok
}

// getWithin is Get, bounded by wait.
func getWithin(wait time.Duration, service string, users ...string) ([]string, error) {
	type result struct {
		values []string
		err    error
	}
	done := make(chan result, 1)
	go func() { // left behind if the keychain hangs; it ends with the process
		v, err := Get(service, users...)
		done <- result{v, err}
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case r := <-done:
		return r.values, r.err
	case <-t.C:
		return nil, errSilent
	}
}
