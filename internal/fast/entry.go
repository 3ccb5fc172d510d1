package fast

import (
	"bytes"
	"runtime/debug"

	"github.com/oidc-auth/oidc-auth/internal/jsonscan"
)

// entry finds key's entry in b, which may be a mapping of the file: a
// fault on reading it (the file cut short under the mapping) is no entry,
// not a crash.
func entry(b []byte, key string) (raw []byte, ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			raw, ok = nil, false
		}
	}()
	raw, bare, err := jsonscan.FindEntry(b, key)
	if err != nil || raw == nil || bare != nil {
		return nil, false
	}
	return bytes.Clone(raw), true
}
