package main

import (
	"os"

	"github.com/oidc-auth/oidc-auth/internal/fast"
	"github.com/oidc-auth/oidc-auth/internal/handoff"
)

// front answers, as the commands do elsewhere, the requests that the
// commands' first stage on Linux (internal/lean) hands over because it has
// not seen them answered yet: a cached get, from the token file or the
// keychain, `oidc-auth token` and `oidc-auth kubectl`. Its answers write
// down their decisions (fast.Remember), from which the first stage
// answers the same request next time. It does nothing when the command
// handed over the hand-over lock: the token is then this process's to
// refresh. When it does not answer, it leaves standard input as it found
// it.
func front(program string) {
	fast.Remember()
	if _, handed := os.LookupEnv(handoff.LockEnv); handed {
		return
	}
	switch program {
	case "git-credential-oidc", "docker-credential-oidc":
		p, answer := handoff.Git, fast.Git
		if program == "docker-credential-oidc" {
			p, answer = handoff.Docker, fast.Docker
		}
		request, consumed := handoff.ReadRequest(os.Args, p)
		if consumed && os.Args[1] == "get" && len(request) <= handoff.ReadLimit {
			if answered, err := answer(request, os.Stdout); answered {
				handoff.Exit(program, err)
			}
		}
		if consumed {
			handoff.Unread(request)
		}
	default:
		if answered, err := fast.Token(os.Args[1:], os.Stdout); answered {
			handoff.Exit(program, err)
		}
		if answered, err := fast.Kubectl(os.Args[1:], os.Stdout); answered {
			handoff.Exit(program, err)
		}
	}
}
