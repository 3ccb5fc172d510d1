//go:build !linux

package main

import (
	"os"

	"github.com/oidc-auth/oidc-auth/internal/fast"
	"github.com/oidc-auth/oidc-auth/internal/handoff"
)

func main() {
	request, consumed := handoff.ReadRequest(os.Args, handoff.Git)
	if consumed && os.Args[1] == "get" && len(request) <= handoff.ReadLimit {
		if answered, err := fast.Git(request, os.Stdout); answered {
			handoff.Exit("git-credential-oidc", err)
		}
	}
	fast.PassGate()
	handoff.Exec("git-credential-oidc", request, consumed)
}
