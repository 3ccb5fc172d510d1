package oidcauth

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/internal/testfs"

	"github.com/oidc-auth/oidc-auth/flows"
)

// BenchmarkTokenCached is the work of one `oidc-auth token HOST` with a
// valid stored token, as a script or a credential helper runs it, in
// process, with no request.
func BenchmarkTokenCached(b *testing.B) {
	access := testfs.CachedLogin(b)
	var stdout strings.Builder
	b.ReportAllocs()
	for b.Loop() {
		stdout.Reset()
		if code := run(context.Background(), "", []string{"oidc-auth", "token", "https://auth.example.org"}, &stdout, &strings.Builder{}); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	if strings.TrimSpace(stdout.String()) != access {
		b.Fatalf("printed %.60q", stdout.String())
	}
}

// TestCachedTokenShortcut: `oidc-auth token HOST` answered from the token
// file without the command line interface prints what the token command
// prints, debug lines included; for anything it does not answer (no login
// of HOST, a flag, a keychain) it writes nothing and leaves the command
// line to the token command.
func TestCachedTokenShortcut(t *testing.T) {
	access := testfs.CachedLogin(t)
	t.Setenv("OIDC_AUTH_DEBUG", "1")
	args := []string{"oidc-auth", "token", "https://auth.example.org"}
	var fastOut, fastErr strings.Builder
	code, ok := cachedToken(context.Background(), args, &fastOut, &fastErr)
	if !ok || code != 0 || fastOut.String() != access+"\n" {
		t.Fatalf("shortcut: %v, exit %d, stdout %.40q", ok, code, fastOut.String())
	}
	var fullOut, fullErr strings.Builder
	if err := newApp(&fullOut, &fullErr).RunContext(flows.WithDebug(context.Background(), &fullErr, 1, "oidc-auth"), args); err != nil {
		t.Fatal(err)
	}
	if fullOut.String() != fastOut.String() {
		t.Errorf("stdout %.40q, the token command's %.40q", fastOut.String(), fullOut.String())
	}
	debugLines := func(s string) string { return regexp.MustCompile(`\+\d+\.\d+s`).ReplaceAllString(s, "+T") }
	if fastErr.Len() == 0 || debugLines(fastErr.String()) != debugLines(fullErr.String()) {
		t.Errorf("stderr %q, the token command's %q", fastErr.String(), fullErr.String())
	}
	for _, tt := range []struct {
		args []string
		env  string
	}{
		{[]string{"oidc-auth", "token", "https://other.example.org"}, ""},
		{[]string{"oidc-auth", "token", "--json", "https://auth.example.org"}, ""},
		{[]string{"oidc-auth", "-v", "token", "https://auth.example.org"}, ""},
		{[]string{"oidc-auth", "token", "-v"}, ""},
		{[]string{"oidc-auth", "login", "https://auth.example.org"}, ""},
		{args, "keychain"},
	} {
		if tt.env != "" {
			t.Setenv("OIDC_TOKEN_FILE", "")
			t.Setenv("OIDC_AUTH_STORE", tt.env)
		}
		var out, errOut strings.Builder
		if _, ok := cachedToken(context.Background(), tt.args, &out, &errOut); ok || out.Len() != 0 || errOut.Len() != 0 {
			t.Errorf("%q (store %q): answered %v, stdout %q, stderr %q", tt.args, tt.env, ok, out.String(), errOut.String())
		}
	}
}
