// Package tokenfile reads the token file as keyring's FileStore does, and
// waits out another process's refresh of a login in it, with system calls
// alone: it imports nothing heavy (not os), so that both internal/fast, in
// the commands and in oidc-auth-core, and internal/lean, the commands'
// first stage on Linux, read it with the same code.
package tokenfile

import (
	"bytes"
	"time"
	_ "unsafe" // for go:linkname

	"github.com/oidc-auth/oidc-auth/internal/jsonscan/scan"
)

// RefreshWait bounds the wait for another process's refresh: the lock
// timeout of the helpers (flows.DefaultLockTimeout).
var RefreshWait = 30 * time.Second

// setPanicOnFault is runtime/debug.SetPanicOnFault, which the runtime
// provides under that name; runtime/debug itself imports os.
//
//go:linkname setPanicOnFault runtime/debug.setPanicOnFault
func setPanicOnFault(bool) bool

// Entry finds key's entry in b, which may be a mapping of the file, with
// the scan's checks c: a fault on reading it (the file cut short under the
// mapping) is no entry, not a crash.
func Entry(b []byte, key string, c scan.Checks) (raw []byte, ok bool) {
	defer setPanicOnFault(setPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			raw, ok = nil, false
		}
	}()
	raw, bare, err := scan.Find(b, key, c)
	if err != nil || raw == nil || bare != nil {
		return nil, false
	}
	return bytes.Clone(raw), true
}
