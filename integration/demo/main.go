// Command demo shows oidc-auth working end to end on this machine without
// any outside server: it starts a py-oidc-auth-compatible test server on
// 127.0.0.1, builds oidc-auth, and runs login (device flow, approved by the
// test server after one poll), token, status and logout against
// it, with a throw-away token file.
//
//	go run ./integration/demo
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

func main() {
	if err := demo(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func demo() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "oidc-auth-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	bin := filepath.Join(dir, "oidc-auth")
	fmt.Println("# building oidc-auth")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/oidc-auth/oidc-auth/cmd/oidc-auth")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building oidc-auth: %w", err)
	}

	srv := pyauthserver.New(pyauthserver.Options{Prefix: "/api/app", Interval: 1, AccessTTL: 10 * time.Minute})
	defer srv.Close()
	host := srv.URL()
	fmt.Printf("# a py-oidc-auth test server listens on %s\n", host)

	env := append(os.Environ(), "OIDC_TOKEN_FILE="+filepath.Join(dir, "token-store.json"), "BROWSER=true")
	oidcAuth := func(args ...string) error {
		fmt.Printf("\n$ oidc-auth %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
		return cmd.Run()
	}
	steps := []func() error{
		func() error { return oidcAuth("login", host, "--flow", "device") },
		func() error { return oidcAuth("token", host) },
		func() error { return oidcAuth("status") },
		func() error {
			before := srv.Count(pyauthserver.RouteToken)
			if err := oidcAuth("token", host, "--header"); err != nil {
				return err
			}
			fmt.Printf("# requests to the token route while printing cached tokens: %d\n", srv.Count(pyauthserver.RouteToken)-before)
			return nil
		},
		func() error { return oidcAuth("logout", host) },
		func() error { return oidcAuth("status") },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	fmt.Printf("\n# done: %d device login, %d device polls, no other request to the server\n",
		srv.Count(pyauthserver.RouteDevice), srv.Count(pyauthserver.CountTokenDevice))
	return nil
}
