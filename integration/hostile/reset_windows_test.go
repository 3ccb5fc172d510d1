package hostile_test

import "syscall"

// connReset is the errno of a connection the peer reset: Windows Sockets
// reports WSAECONNRESET ("wsarecv: Connection reset by peer."), not the
// POSIX ECONNRESET.
const connReset = syscall.WSAECONNRESET
