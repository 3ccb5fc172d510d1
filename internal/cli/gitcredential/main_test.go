package gitcredential

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

const request = "protocol=https\nhost=auth.example.org\n\n"

// TestVerboseLevels: -v counts wherever it goes, before and after the
// action, -vv counts twice, -v=false still counts (as it did when a
// command line library parsed the flags), and the debug lines go to
// stderr only.
func TestVerboseLevels(t *testing.T) {
	access := testfs.CachedLogin(t)
	for _, tt := range []struct {
		args  []string
		debug bool
	}{
		{[]string{"get"}, false},
		{[]string{"-v", "get"}, true},
		{[]string{"get", "-v"}, true},
		{[]string{"-vv", "get"}, true},
		{[]string{"--verbose", "get"}, true},
		{[]string{"-v=false", "get"}, true},
		{[]string{"get", "extra", "-v"}, false}, // after an argument: an argument
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), "", append([]string{"git-credential-oidc"}, tt.args...), strings.NewReader(request), &stdout, &stderr)
		if code != 0 || !strings.Contains(stdout.String(), "password="+access+"\n") {
			t.Errorf("%q: exit %d, stdout %.60q", tt.args, code, stdout.String())
		}
		if got := strings.Contains(stderr.String(), "debug"); got != tt.debug {
			t.Errorf("%q: debug output %v, want %v: %q", tt.args, got, tt.debug, stderr.String())
		}
		if strings.Contains(stderr.String(), access) {
			t.Errorf("%q: the token on stderr", tt.args)
		}
	}
}

// TestUsageErrors: a command line that cannot be run exits 2 with one line
// on stderr and nothing on stdout, which is git's.
func TestUsageErrors(t *testing.T) {
	testfs.CachedLogin(t)
	for args, want := range map[string]string{
		"-x":               "git-credential-oidc: unknown flag --x; see `git-credential-oidc --help`\n",
		"get --version":    "git-credential-oidc: unknown flag --version; see `git-credential-oidc --help`\n",
		"--verbose=2 get":  "git-credential-oidc: invalid boolean value \"2\" for -verbose: parse error; see `git-credential-oidc --help`\n",
		"-v --verbose get": "git-credential-oidc: Cannot use two forms of the same flag: v verbose; see `git-credential-oidc --help`\n",
		"get -h --help":    "git-credential-oidc: Cannot use two forms of the same flag: h help; see `git-credential-oidc --help`\n",
		"":                 usage,
		"-v":               usage,
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), "", append([]string{"git-credential-oidc"}, strings.Fields(args)...), strings.NewReader(request), &stdout, &stderr)
		if code != 2 || stdout.Len() != 0 || stderr.String() != want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", args, code, stdout.String(), stderr.String(), want)
		}
	}
}

// TestHelp: --help and -h print the program's help, or an action's, on
// stdout; a help topic that is no action is an error.
func TestHelp(t *testing.T) {
	for args, want := range map[string]string{
		"--help":       "git-credential-oidc - answer git's credential requests",
		"-h get":       "git-credential-oidc get - print the credential",
		"get --help":   "git-credential-oidc get - print the credential",
		"erase -h":     "git-credential-oidc erase - forget the rejected access token",
		"get -h store": "git-credential-oidc store - accepted and ignored",
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), "", append([]string{"git-credential-oidc"}, strings.Fields(args)...), strings.NewReader(""), &stdout, &stderr)
		if code != 0 || !strings.Contains(stdout.String(), want) || stderr.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), "", []string{"git-credential-oidc", "-h", "frob"}, strings.NewReader(""), &stdout, &stderr); code != 1 || stderr.String() != "git-credential-oidc: No help topic for 'frob'\n" {
		t.Errorf("-h frob: exit %d, stderr %q", code, stderr.String())
	}
}

// BenchmarkGitHelperGetCached is the work of one `git-credential-oidc get`
// that git starts for a URL with a valid stored token, in process: the
// command line, the config lookup, the store read and the answer, with no
// request (the process start is what BENCHMARKS.md measures beside it).
func BenchmarkGitHelperGetCached(b *testing.B) {
	access := testfs.CachedLogin(b)
	var stdout bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		stdout.Reset()
		if code := run(context.Background(), "", []string{"git-credential-oidc", "get"}, strings.NewReader(request), &stdout, &bytes.Buffer{}); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	if !strings.Contains(stdout.String(), "password="+access+"\n") {
		b.Fatalf("answer %.60q", stdout.String())
	}
}
