// Package secretservice reads secrets from the freedesktop Secret Service,
// the keychain of Linux and the BSDs, over the D-Bus session bus, in as
// few round trips as the protocol allows. On Linux it speaks D-Bus with a
// client of its own, built on syscall alone (dbus_linux.go): godbus, with
// the net package it links, cost every start of the small commands git
// and docker start about 0.3 ms, whether they read the keychain or not.
// So those commands read the keychain themselves (see internal/fast) with
// the code oidc-auth-core reads it with (keyring's OSKeychain). The BSDs
// keep godbus (get_bsd.go).
//
// Get reads only what it can read without asking anything of a person:
// items of the login collection that are unlocked. Everything else (a
// locked collection, an item elsewhere, a Secret Service that refuses a
// call) is ErrUnusual, which keyring answers with go-keyring's own Get,
// which unlocks and prompts as it always does, and which internal/fast
// answers by handing the request over to oidc-auth-core.
//
// The Gets of one user's processes go one at a time, under a lock file in
// the user's runtime directory (lock_unix.go): gnome-keyring-daemon
// aborts when several clients connect, call and hang up at once, as a
// burst of helpers would, and the daemon D-Bus starts in its place has
// the login keyring locked. A Get waits 2 s at most for the lock, then
// reads without it.
package secretservice

import (
	"errors"
	"strconv"
	"strings"

	"github.com/oidc-auth/oidc-auth/internal/ascii"
	"github.com/oidc-auth/oidc-auth/internal/sha256"
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

// CorruptError says why a split record cannot be read back: its header
// does not parse, a part is missing, or the parts do not add up to the
// hash the header records.
type CorruptError struct{ Err error }

func (e *CorruptError) Error() string { return "secretservice: a split record: " + e.Err.Error() }

// Join returns the record whose item under user holds v: v itself, or,
// when v names the parts of a split record (ChunkHeader), the parts,
// joined and checked against the hash v records. get returns the values
// of the parts' users, in order, or an error that is notFound for a part
// that is missing, with the values before it when it read them one by
// one (the message then names the part). The error is a *CorruptError for what cannot be read
// back, else get's. keyring and the small commands read split records
// with it alike.
func Join(user, v string, notFound error, get func(users ...string) ([]string, error)) (string, error) {
	if !strings.HasPrefix(v, ChunkHeader) {
		return v, nil
	}
	gen, n, sum, err := ParseChunkHeader(v)
	if err != nil {
		return "", &CorruptError{err}
	}
	users := make([]string, n)
	for i := range users {
		users[i] = ChunkUser(user, gen, i+1)
	}
	parts, err := get(users...)
	if errors.Is(err, notFound) {
		if parts != nil {
			return "", &CorruptError{errors.New("part " + strconv.Itoa(len(parts)+1) + " of " + strconv.Itoa(n) + " is missing")}
		}
		return "", &CorruptError{errors.New("one of its " + strconv.Itoa(n) + " parts is missing")}
	}
	if err != nil {
		return "", err
	}
	joined := strings.Join(parts, "")
	if got := sha256.Sum256([]byte(joined)); ascii.Hex(got[:]) != sum {
		return "", &CorruptError{errors.New("its parts do not add up to the recorded hash")}
	}
	return joined, nil
}
