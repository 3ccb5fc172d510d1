//go:build !windows

package flows

import "syscall"

// closedErrnos are the errors a read or write on a connection the server
// closed or reset fails with.
var closedErrnos = []syscall.Errno{syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE}

// refusedErrnos are the errors a dial to a port nobody listens on fails
// with.
var refusedErrnos = []syscall.Errno{syscall.ECONNREFUSED}
