package main

import (
	"reflect"
	"runtime"
	"testing"

	"github.com/oidc-auth/oidc-auth/internal/cli/dockercredential"
	"github.com/oidc-auth/oidc-auth/internal/cli/gitcredential"
	"github.com/oidc-auth/oidc-auth/internal/cli/oidcauth"
)

// TestProgram: the name the core runs under picks the program, with any
// directory and ".exe" (in any case) dropped; any other name is oidc-auth.
func TestProgram(t *testing.T) {
	t.Parallel()
	type programCase struct {
		args []string
		want func(string) int
	}
	cases := []programCase{
		{[]string{"git-credential-oidc", "get"}, gitcredential.Main},
		{[]string{"/usr/local/bin/git-credential-oidc"}, gitcredential.Main},
		{[]string{"git-credential-oidc.EXE"}, gitcredential.Main},
		{[]string{"docker-credential-oidc.exe", "list"}, dockercredential.Main},
		{[]string{"oidc-auth", "token"}, oidcauth.Main},
		{[]string{"oidc-auth-core"}, oidcauth.Main},
		{[]string{"git-credential-oidc-old"}, oidcauth.Main},
		{nil, oidcauth.Main},
	}
	if runtime.GOOS == "windows" {
		cases = append(cases, programCase{[]string{`C:\bin\docker-credential-oidc.exe`}, dockercredential.Main})
	}
	for _, tt := range cases {
		if got := program(tt.args); reflect.ValueOf(got).Pointer() != reflect.ValueOf(tt.want).Pointer() {
			t.Errorf("program(%q) is not the expected Main", tt.args)
		}
	}
}
