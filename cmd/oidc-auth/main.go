// The command lives for milliseconds, or waits in flock for another
// process's refresh: the runtime's goroutine that follows changes of the
// CPU limit (updatemaxprocs) has nothing to do for it, and starting it
// costs every start about 0.05 ms (BENCHMARKS.md).
//go:debug updatemaxprocs=0

// Command oidc-auth logs in to OIDC auth servers and hands out their
// tokens: login, token, status, setup, doctor, exec and logout. It is a
// small program: it answers `oidc-auth token HOST` and kubectl's
// `oidc-auth kubectl` for a token that is stored and valid itself (see
// internal/fast, and on Linux internal/lean), and hands everything else over to oidc-auth-core,
// installed beside it, which does the work (see internal/handoff).
package main
