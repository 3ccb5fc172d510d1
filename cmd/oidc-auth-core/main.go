// Command oidc-auth-core is the whole of oidc-auth: login, token, status,
// setup, the git credential helper and the docker credential helper.
//
// People and tools never run it. They run oidc-auth, git-credential-oidc
// and docker-credential-oidc, small programs that answer a cached get
// themselves (internal/fast) and hand everything else over to
// oidc-auth-core, which they find beside themselves (else on PATH), with
// their own name as its argv[0] (internal/handoff). It
// picks the program by that name: git-credential-oidc,
// docker-credential-oidc, else oidc-auth, so that running it by hand acts
// as oidc-auth. `go install github.com/oidc-auth/oidc-auth/cmd/...` installs
// all four.
package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/oidc-auth/oidc-auth/internal/cli/dockercredential"
	"github.com/oidc-auth/oidc-auth/internal/cli/gitcredential"
	"github.com/oidc-auth/oidc-auth/internal/cli/oidcauth"
	"github.com/oidc-auth/oidc-auth/internal/handoff"
)

// version is the version a release build sets with -ldflags
// "-X main.version=v1.2.3"; empty, the module's build information tells
// (see internal/version).
var version = ""

func main() {
	front(name(os.Args))
	handoff.AdoptLock()
	os.Exit(program(os.Args)(version))
}

// name is the program that args[0] names, without ".exe".
func name(args []string) string {
	name := ""
	if len(args) > 0 {
		name = filepath.Base(args[0])
		if ext := filepath.Ext(name); strings.EqualFold(ext, ".exe") {
			name = strings.TrimSuffix(name, ext)
		}
	}
	return name
}

// program is the Main of the program that args[0] names.
func program(args []string) func(version string) int {
	switch name(args) {
	case "git-credential-oidc":
		return gitcredential.Main
	case "docker-credential-oidc":
		return dockercredential.Main
	}
	return oidcauth.Main
}
