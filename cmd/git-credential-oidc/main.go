// The command lives for milliseconds, or waits in flock for another
// process's refresh: the runtime's goroutine that follows changes of the
// CPU limit (updatemaxprocs) has nothing to do for it, and starting it
// costs every start about 0.05 ms (BENCHMARKS.md).
//go:debug updatemaxprocs=0

// Command git-credential-oidc is a git credential helper that answers with
// OIDC access tokens: configure it with `oidc-auth setup git URL --host H`,
// or by hand as credential.<url>.helper = oidc. git starts it on every
// fetch and push, so it is a small program: it answers a "get" whose token
// is stored and valid itself (see internal/fast, and on Linux internal/lean) and hands everything else
// over to oidc-auth-core, installed beside it (see internal/handoff).
package main
