// Command git-credential-oidc is a git credential helper that answers with
// OIDC access tokens: configure it with `oidc-auth setup git URL --host H`,
// or by hand as credential.<url>.helper = oidc. git starts it on every
// fetch and push, so it is a small program that reads git's request and
// hands over to oidc-auth-core, installed beside it, which does the work
// (see internal/handoff).
package main

import (
	"os"

	"github.com/oidc-auth/oidc-auth/internal/handoff"
)

func main() {
	request, consumed := handoff.ReadRequest(os.Args, handoff.Git)
	handoff.Exec("git-credential-oidc", request, consumed)
}
