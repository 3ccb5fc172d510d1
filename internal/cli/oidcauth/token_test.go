package oidcauth

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
	"github.com/oidc-auth/oidc-auth/keyring"
)

func TestWriteToken(t *testing.T) {
	t.Parallel()
	tok := &flows.Token{AccessToken: "abc.def", TokenType: "Bearer", Expires: 1767225600}
	tests := []struct{ format, want string }{
		{formatToken, "abc.def\n"},
		{formatHeader, "Authorization: Bearer abc.def\n"},
		{formatEnv, "OIDC_TOKEN='abc.def'\nOIDC_TOKEN_EXPIRES=1767225600\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := writeToken(&b, tt.format, tok); err != nil || b.String() != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.format, b.String(), err, tt.want)
		}
	}
	var b bytes.Buffer
	if err := writeToken(&b, formatJSON, tok); err != nil || !strings.Contains(b.String(), `"access_token": "abc.def"`) || !strings.Contains(b.String(), `"expires": 1767225600`) {
		t.Errorf("json: %q, %v", b.String(), err)
	}
}

// TestEnvFormatEvals hands the env format to a real shell: whatever a
// token holds (it is printable ASCII), eval sets exactly that value.
func TestEnvFormatEvals(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("the env format is for eval in a POSIX shell, and there is no sh here:", err)
	}
	for _, access := range []string{"plain", `it's "quoted" $HOME \n; rm -rf / #`, "a'b''c'", "`id`$(id)"} {
		var b bytes.Buffer
		writeToken(&b, formatEnv, &flows.Token{AccessToken: access, Expires: 42})
		out, err := exec.Command(sh, "-c", `eval "$1"; printf '%s|%s' "$OIDC_TOKEN" "$OIDC_TOKEN_EXPIRES"`, "sh", b.String()).Output()
		if err != nil || string(out) != access+"|42" {
			t.Errorf("eval of %q gave %q, %v", b.String(), out, err)
		}
	}
}

func TestTokenUsageErrors(t *testing.T) {
	sandbox(t)
	for _, tt := range []struct{ args, want string }{
		{"token --format yaml https://h", `--format "yaml" is not a format`},
		{"token --format env --json https://h", "give one output format"},
		{"token --header --json https://h", "give one output format"},
		{"token --wlcg --header https://h", "--wlcg writes the token to a file"},
		{"token --min-valid soon https://h", `--min-valid "soon" is not a duration`},
	} {
		code, stdout, stderr := runCLI(strings.Fields(tt.args)...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want usage error %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
}

// loginTo logs the sandbox's default file store in to srv by the device
// flow, which the test server approves by itself.
func loginTo(t *testing.T, srv *pyauthserver.Server) *flows.Token {
	t.Helper()
	path, err := keyring.DefaultFilePath("")
	if err != nil {
		t.Fatal(err)
	}
	srv.PlanDevice(pyauthserver.DevicePlan{})
	tok, err := flows.Authenticate(context.Background(), flows.Config{Host: srv.URL(), Timeout: 20 * time.Second}, &keyring.FileStore{Path: path},
		flows.Options{Interaction: flows.InteractAlways, Flow: flows.FlowDevice, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenMinValid(t *testing.T) {
	sandbox(t)
	// The first token is issued as if two minutes ago: 8 minutes left.
	var past atomic.Bool
	past.Store(true)
	srv := pyauthserver.Start(t, pyauthserver.Options{Prefix: "/api/app", Interval: 1, AccessTTL: 10 * time.Minute, Now: func() time.Time {
		if past.Load() {
			return time.Now().Add(-2 * time.Minute)
		}
		return time.Now()
	}})
	first := loginTo(t, srv)
	past.Store(false)
	refreshes := func() int { return srv.Count(pyauthserver.CountTokenRefresh) }

	code, stdout, stderr := runCLI("token", "--min-valid", "7m", srv.URL())
	if code != 0 || stdout != first.AccessToken+"\n" || refreshes() != 0 {
		t.Fatalf("--min-valid 7m of a token with 8m left: exit %d, %d refreshes, stderr %q", code, refreshes(), stderr)
	}
	code, stdout, stderr = runCLI("token", "--min-valid", "570", "--format", "env", srv.URL())
	if code != 0 || refreshes() != 1 || strings.Contains(stdout, first.AccessToken) || !strings.HasPrefix(stdout, envToken+"='") {
		t.Fatalf("--min-valid 570 of a token with less left: exit %d, %d refreshes, stdout %q, stderr %q", code, refreshes(), stdout, stderr)
	}
	exp := strings.TrimSpace(stdout[strings.Index(stdout, envExpires+"=")+len(envExpires)+1:])
	if n, err := strconv.ParseInt(exp, 10, 64); err != nil || time.Until(time.Unix(n, 0)) < 9*time.Minute {
		t.Errorf("%s=%s is not ten minutes away", envExpires, exp)
	}
	code, stdout, stderr = runCLI("token", "--min-valid", "1h", srv.URL())
	if code != exitFailure || stdout != "" || !(strings.Contains(stderr, "issues access tokens valid for only 10m0s") || strings.Contains(stderr, "issues access tokens valid for only 9m59s")) || !strings.Contains(stderr, "--min-valid asks for 1h0m0s") {
		t.Errorf("--min-valid 1h of a server that issues 10m: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if strings.Count(stderr, "\n") != 1 {
		t.Errorf("more than one line on stderr: %q", stderr)
	}
}

func TestTokenWLCG(t *testing.T) {
	sandbox(t)
	srv := pyauthserver.Start(t, pyauthserver.Options{Prefix: "/api/app", Interval: 1})
	tok := loginTo(t, srv)
	dir := t.TempDir()
	t.Setenv("BEARER_TOKEN_FILE", "")
	t.Setenv("XDG_RUNTIME_DIR", dir)
	code, stdout, stderr := runCLI("token", srv.URL(), "--wlcg")
	path := filepath.Join(dir, "bt_u"+strconv.Itoa(os.Geteuid()))
	if code != 0 || stdout != "" || !strings.Contains(stderr, "to "+path) || strings.Contains(stderr, tok.AccessToken) {
		t.Fatalf("token --wlcg: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != tok.AccessToken+"\n" {
		t.Errorf("%s holds %q, %v", path, b, err)
	}
	other := filepath.Join(dir, "job", "token")
	os.Mkdir(filepath.Dir(other), 0o700)
	t.Setenv("BEARER_TOKEN_FILE", other)
	t.Setenv("BEARER_TOKEN", "stale")
	if code, _, stderr := runCLI("token", "--wlcg", srv.URL()); code != 0 || !strings.Contains(stderr, other) || !strings.Contains(stderr, "BEARER_TOKEN is set") {
		t.Fatalf("token --wlcg with BEARER_TOKEN_FILE: exit %d, stderr %q", code, stderr)
	}
	if b, err := os.ReadFile(other); err != nil || string(b) != tok.AccessToken+"\n" {
		t.Errorf("%s holds %q, %v", other, b, err)
	}
}
