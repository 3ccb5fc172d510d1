//go:build !windows

package hostile_test

import "syscall"

// connReset is the errno of a connection the peer reset.
const connReset = syscall.ECONNRESET
