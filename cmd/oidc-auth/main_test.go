package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestReorderArgs(t *testing.T) {
	t.Parallel()
	app := newApp(&bytes.Buffer{}, &bytes.Buffer{})
	tests := []struct{ in, want string }{
		{"oidc-auth login https://h --force", "oidc-auth login --force -- https://h"},
		{"oidc-auth login https://h --flow code --port 1 --port=2", "oidc-auth login --flow code --port 1 --port=2 -- https://h"},
		{"oidc-auth login --flow device https://h", "oidc-auth login --flow device -- https://h"},
		{"oidc-auth token https://h --header", "oidc-auth token --header -- https://h"},
		{"oidc-auth logout --all", "oidc-auth logout --all"},
		{"oidc-auth login https://h -- --weird", "oidc-auth login https://h -- --weird"},
		{"oidc-auth login https://h --timeout 30s -- x", "oidc-auth login --timeout 30s -- https://h -- x"},
		{"oidc-auth frob --x", "oidc-auth frob --x"},
		{"oidc-auth setup git https://g/team/ --host https://h --unset", "oidc-auth setup git --host https://h --unset -- https://g/team/"},
		{"oidc-auth setup docker reg:5000 --creds-store --host=https://h", "oidc-auth setup docker --creds-store --host=https://h -- reg:5000"},
		{"oidc-auth --help", "oidc-auth --help"},
		{"oidc-auth", "oidc-auth"},
	}
	for _, tt := range tests {
		if got := strings.Join(reorderArgs(app, strings.Fields(tt.in)), " "); got != tt.want {
			t.Errorf("reorderArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseTimeout(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"90": 90 * time.Second, "90s": 90 * time.Second, "5m": 5 * time.Minute, "1h30m": 90 * time.Minute} {
		if got, err := parseTimeout(in); err != nil || got != want {
			t.Errorf("parseTimeout(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-5", "soon", "-1m"} {
		if _, err := parseTimeout(in); err == nil {
			t.Errorf("parseTimeout(%q) accepted", in)
		}
	}
}

func TestMessageDropsPackagePrefix(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("flows: cannot reach %s: %w", "https://h/auth/v2/device", errors.New("connection refused"))
	if got := message(err); got != "cannot reach https://h/auth/v2/device: connection refused" {
		t.Errorf("message = %q", got)
	}
}

func TestUsageExitCodes(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("OIDC_TOKEN_FILE", "")
	t.Setenv("OIDC_AUTH_STORE", "file")
	tests := []struct {
		args []string
		code int
		text string
	}{
		{[]string{"login"}, exitUsage, "login needs the server HOST"},
		{[]string{"login", "a", "b"}, exitUsage, "takes one HOST"},
		{[]string{"login", "--flow", "implicit", "https://h"}, exitUsage, `unknown flow "implicit"`},
		{[]string{"login", "https://h", "--timeout", "soon"}, exitUsage, "--timeout"},
		{[]string{"login", "--bogus", "https://h"}, exitUsage, "unknown flag --bogus"},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"token"}, exitUsage, "token needs the server HOST"},
		{[]string{"status", "extra"}, exitUsage, "status takes no arguments"},
		{[]string{"logout"}, exitUsage, "logout needs the server HOST"},
		{[]string{"logout", "--all", "https://h"}, exitUsage, "either HOST or --all"},
		{[]string{"logout", "https://nowhere.example"}, exitFailure, "not logged in to https://nowhere.example"},
		{[]string{"status"}, exitOK, "No stored logins"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"oidc-auth"}, tt.args...), &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.text) {
			t.Errorf("%q: exit %d, stderr %q; want %d containing %q", tt.args, code, stderr.String(), tt.code, tt.text)
		}
		if code != exitOK && strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
			t.Errorf("%q: stderr has more than one line: %q", tt.args, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("%q: wrote %q to stdout", tt.args, stdout.String())
		}
	}
}
