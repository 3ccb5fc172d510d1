package flows

import "syscall"

// Windows reports a connection the server closed or refused with Winsock
// and Win32 error numbers, which syscall.ECONNRESET and its kin (values
// Go invents on Windows) do not match.
const (
	errNetnameDeleted    = syscall.Errno(64)    // ERROR_NETNAME_DELETED: overlapped I/O on a reset connection
	errConnectionRefused = syscall.Errno(1225)  // ERROR_CONNECTION_REFUSED: ConnectEx at a closed port
	wsaeConnAborted      = syscall.Errno(10053) // WSAECONNABORTED
	wsaeConnReset        = syscall.Errno(10054) // WSAECONNRESET
	wsaeShutdown         = syscall.Errno(10058) // WSAESHUTDOWN: send after the socket was shut down
	wsaeConnRefused      = syscall.Errno(10061) // WSAECONNREFUSED
)

// closedErrnos are the errors a read or write on a connection the server
// closed or reset fails with.
var closedErrnos = []syscall.Errno{
	syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
	wsaeConnReset, wsaeConnAborted, wsaeShutdown, errNetnameDeleted,
}

// refusedErrnos are the errors a dial to a port nobody listens on fails
// with.
var refusedErrnos = []syscall.Errno{syscall.ECONNREFUSED, wsaeConnRefused, errConnectionRefused}
