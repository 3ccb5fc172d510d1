// The command lives for milliseconds, or waits in flock for another
// process's refresh: the runtime's goroutine that follows changes of the
// CPU limit (updatemaxprocs) has nothing to do for it, and starting it
// costs every start about 0.05 ms (BENCHMARKS.md).
//go:debug updatemaxprocs=0

// Command docker-credential-oidc is a docker credential helper: registries
// that a configured server answers for get an OIDC access token, and every
// other registry is a plain credential store, so it also works as docker's
// credsStore. Configure it with `oidc-auth setup docker REGISTRY --host H`.
// docker starts it on every pull and build step, so it is a small program:
// it answers a "get" whose token is stored and valid itself (see
// internal/fast, and on Linux internal/lean) and hands everything else over to oidc-auth-core,
// installed beside it (see internal/handoff).
package main
