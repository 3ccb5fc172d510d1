package fast

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/secretservice"
	"github.com/oidc-auth/oidc-auth/internal/tokenrec"
)

// keychainService is the keychain service of oidc-auth's logins
// (keyring.DefaultAppName).
const keychainService = "oidc-auth"

// keychainWait bounds the read of the keychain. A keychain that does not
// answer in time is left to oidc-auth-core, which waits for it as long as
// its own bound and then tells later processes to skip it for a while.
var keychainWait = time.Second

// errSilent is the answer of a keychain that did not answer in time.
var errSilent = errors.New("fast: the keychain did not answer in time")

// keychainRecord reads the record of key from the keychain as keyring's
// KeychainStore reads it: one item holding the record as JSON, or one
// naming the parts of a record split into several (secretservice.Join). found is false for no item; ok is
// false for an item the command leaves to oidc-auth-core: one the direct
// read does not read (see secretservice.Get), a keychain that does not
// answer, a split record that does not add up, a record not decoded the
// way keyring decodes it (see tokenrec.Decode).
func keychainRecord(key string) (rec tokenrec.Record, found, ok bool) {
	values, err := keychainGet(key)
	switch {
	case errors.Is(err, secretservice.ErrNotFound):
		return tokenrec.Record{}, false, true
	case err != nil:
		return tokenrec.Record{}, false, false
	}
	v, err := secretservice.Join(key, values[0], secretservice.ErrNotFound, keychainGet)
	if err != nil {
		return tokenrec.Record{}, false, false // a split record keyring calls corrupt, or a keychain that fails
	}
	b := []byte(v)
	if !json.Valid(b) {
		return tokenrec.Record{}, false, false
	}
	rec, ok = tokenrec.Decode(b)
	return rec, ok, ok
}

// keychainGet reads the items of users of oidc-auth's service, bounded by
// keychainWait.
func keychainGet(users ...string) ([]string, error) {
	type result struct {
		values []string
		err    error
	}
	done := make(chan result, 1)
	go func() { // left behind if the keychain hangs; it ends with the process
		v, err := secretservice.Get(keychainService, users...)
		done <- result{v, err}
	}()
	t := time.NewTimer(keychainWait)
	defer t.Stop()
	select {
	case r := <-done:
		return r.values, r.err
	case <-t.C:
		return nil, errSilent
	}
}
