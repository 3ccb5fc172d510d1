package flows

import "syscall"

// On Windows the socket calls report Winsock numbers, not the errno values
// Go invents for syscall.ECONNRESET and its kin; both must be classed.
var platformClosed = []namedErrno{
	{"ECONNRESET", syscall.ECONNRESET},
	{"ECONNABORTED", syscall.ECONNABORTED},
	{"EPIPE", syscall.EPIPE},
	{"WSAECONNRESET", 10054},
	{"WSAECONNABORTED", 10053},
	{"WSAESHUTDOWN", 10058},
	{"ERROR_NETNAME_DELETED", 64},
}

var platformRefused = []namedErrno{
	{"ECONNREFUSED", syscall.ECONNREFUSED},
	{"WSAECONNREFUSED", 10061},
	{"ERROR_CONNECTION_REFUSED", 1225},
}
