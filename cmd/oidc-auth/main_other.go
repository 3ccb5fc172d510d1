//go:build !linux

package main

import (
	"os"

	"github.com/oidc-auth/oidc-auth/internal/fast"
	"github.com/oidc-auth/oidc-auth/internal/handoff"
)

func main() {
	if answered, err := fast.Token(os.Args[1:], os.Stdout); answered {
		handoff.Exit("oidc-auth", err)
	}
	if answered, err := fast.Kubectl(os.Args[1:], os.Stdout); answered {
		handoff.Exit("oidc-auth", err)
	}
	fast.PassGate()
	handoff.Exec("oidc-auth", nil, false)
}
