// Package secretservice reads secrets from the freedesktop Secret Service,
// the keychain of Linux and the BSDs, over the D-Bus session bus, in as
// few round trips as the protocol allows. It links nothing but godbus, so
// that the small commands git and docker start can read the keychain
// themselves (see internal/fast) with the code oidc-auth-core reads it
// with (keyring's OSKeychain).
//
// Get reads only what it can read without asking anything of a person:
// items of the login collection that are unlocked. Everything else (a
// locked collection, an item elsewhere, a Secret Service that refuses a
// call) is ErrUnusual, which keyring answers with go-keyring's own Get,
// which unlocks and prompts as it always does, and which internal/fast
// answers by handing the request over to oidc-auth-core.
package secretservice

import (
	"errors"
	"strconv"
	"strings"
)

var (
	// ErrNotFound is the answer for a user that has no item at all.
	ErrNotFound = errors.New("secretservice: no such item")
	// ErrUnusual is the answer for an item Get does not read itself: in
	// a locked collection or another one than the login collection, or
	// when the Secret Service refused a call.
	ErrUnusual = errors.New("secretservice: the item needs go-keyring's read (locked, in another collection, or a refused call)")
)

// ChunkHeader starts the value of an item whose record is split into
// parts, each an item of its own (see ChunkUser): keyring's keychain
// writes records larger than an item may hold that way, on every system.
const ChunkHeader = "oidc-auth-chunks/v1 "

// ChunkUser is the user of the i'th part (from 1) of the record of user
// whose parts are of generation gen.
func ChunkUser(user, gen string, i int) string {
	return user + "#" + gen + "." + strconv.Itoa(i)
}

// ParseChunkHeader reads "oidc-auth-chunks/v1 <gen> <n> <sha256>", the
// generation, count and hex SHA-256 of a split record's parts.
func ParseChunkHeader(v string) (gen string, n int, sum string, err error) {
	f := strings.Fields(strings.TrimPrefix(v, ChunkHeader))
	if len(f) != 3 {
		return "", 0, "", errors.New("its chunk header is malformed")
	}
	n, err = strconv.Atoi(f[1])
	if err != nil || n < 1 || n > 1000 {
		return "", 0, "", errors.New("its chunk count is malformed")
	}
	return f[0], n, f[2], nil
}
