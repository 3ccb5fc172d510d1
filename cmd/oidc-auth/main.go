// Command oidc-auth logs in to OIDC auth servers and hands out their
// tokens: login, token, status, setup, doctor, exec and logout. It is a
// small program that hands over to oidc-auth-core, installed beside it,
// which does the work (see internal/handoff).
package main

import "github.com/oidc-auth/oidc-auth/internal/handoff"

func main() {
	handoff.Exec("oidc-auth", nil, false)
}
