//go:build !windows

package flows

import "syscall"

var platformClosed = []namedErrno{
	{"ECONNRESET", syscall.ECONNRESET},
	{"ECONNABORTED", syscall.ECONNABORTED},
	{"EPIPE", syscall.EPIPE},
}

var platformRefused = []namedErrno{{"ECONNREFUSED", syscall.ECONNREFUSED}}
