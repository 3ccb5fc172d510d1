//go:build !linux

package main

import (
	"os"

	"github.com/oidc-auth/oidc-auth/internal/fast"
	"github.com/oidc-auth/oidc-auth/internal/handoff"
)

func main() {
	request, consumed := handoff.ReadRequest(os.Args, handoff.Docker)
	if consumed && os.Args[1] == "get" && len(request) <= handoff.ReadLimit {
		if answered, err := fast.Docker(request, os.Stdout); answered {
			handoff.Exit("docker-credential-oidc", err)
		}
	}
	fast.PassGate()
	handoff.Exec("docker-credential-oidc", request, consumed)
}
