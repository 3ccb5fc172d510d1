package integration

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// BenchmarkProcessStart is the floor for the benchmarks below: starting
// the oidc-auth binary for `--version`, which touches no store.
func BenchmarkProcessStart(b *testing.B) {
	for b.Loop() {
		if err := exec.Command(oidcAuthBin, "--version").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCachedToken runs `oidc-auth token HOST` with a valid stored
// token, as a credential helper's get runs on every git or docker
// operation; it must cost about a process start and make no request. The
// "auto" case is a headless machine: no D-Bus, so the keychain is skipped
// and the token is read from the fallback file.
// With the private Secret Service of scripts/with-secret-service, the
// "keychain" case reads the token from it over D-Bus.
func BenchmarkCachedToken(b *testing.B) {
	b.Run("file", func(b *testing.B) { benchCachedToken(b, "OIDC_AUTH_STORE=file") })
	b.Run("auto-without-dbus", func(b *testing.B) { benchCachedToken(b, "OIDC_AUTH_STORE=") })
	if bus := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); os.Getenv("OIDC_AUTH_TEST_KEYCHAIN") == "1" && bus != "" {
		b.Run("keychain", func(b *testing.B) { benchCachedToken(b, "OIDC_AUTH_STORE=", "DBUS_SESSION_BUS_ADDRESS="+bus) })
	}
}

func benchCachedToken(b *testing.B, extra ...string) {
	srv := pyauthserver.New(pyauthserver.Options{Prefix: "/api/app", Interval: 1, AccessTTL: time.Hour})
	defer srv.Close()
	dir := b.TempDir()
	env := append(append(append(inheritedEnv(), homeEnv(dir)...), "XDG_CACHE_HOME="+dir), extra...)
	ctx := context.Background()
	login := exec.CommandContext(ctx, oidcAuthBin, "login", srv.URL(), "--flow", "device")
	login.Env = env
	if out, err := login.CombinedOutput(); err != nil {
		b.Fatalf("login: %v\n%s", err, out)
	}
	before := srv.Count(pyauthserver.RouteToken)
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.CommandContext(ctx, oidcAuthBin, "token", srv.URL())
		cmd.Env = env
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := srv.Count(pyauthserver.RouteToken) - before; n != 0 {
		b.Fatalf("%d token requests on the cached path", n)
	}
}

// BenchmarkGitCredentialGet runs `git-credential-oidc get` as git does,
// for a configured URL with a valid stored token: config file, store read,
// answer, and no request.
func BenchmarkGitCredentialGet(b *testing.B) {
	srv := pyauthserver.New(pyauthserver.Options{Prefix: "/api/app", Interval: 1, AccessTTL: time.Hour})
	defer srv.Close()
	dir := b.TempDir()
	env := append(append(inheritedEnv(), homeEnv(dir)...), "XDG_CACHE_HOME="+dir, "XDG_CONFIG_HOME="+dir, "OIDC_AUTH_STORE=file")
	ctx := context.Background()
	for _, args := range [][]string{
		{"login", srv.URL(), "--flow", "device"},
		{"setup", "docker", "127.0.0.1:5000", "--host", srv.URL()},
	} {
		cmd := exec.CommandContext(ctx, oidcAuthBin, args...)
		cmd.Env = append(env, "DOCKER_CONFIG="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	before := srv.Count(pyauthserver.RouteToken)
	request := "protocol=https\nhost=127.0.0.1:5000\npath=team/app.git\n\n"
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.CommandContext(ctx, gitCredentialBin, "get")
		cmd.Env = env
		cmd.Stdin = strings.NewReader(request)
		out, err := cmd.Output()
		if err != nil || !strings.Contains(string(out), "password=") {
			b.Fatalf("get: %v %q", err, out)
		}
	}
	b.StopTimer()
	if n := srv.Count(pyauthserver.RouteToken) - before; n != 0 {
		b.Fatalf("%d token requests on the cached path", n)
	}
}
