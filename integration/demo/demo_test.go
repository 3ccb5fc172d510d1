package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/gitserver"
)

// lockedBuffer is one output for the demo's stdout and stderr, which the
// git server's log may write to from its own goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// headings are the steps the demo must show, in order.
var headings = []string{
	"== Building oidc-auth, git-credential-oidc, docker-credential-oidc and oidc-auth-core",
	"== Starting a py-oidc-auth test server and a git server on 127.0.0.1",
	"== Logging in by device flow",
	"== Making git ask oidc-auth for ",
	"== Cloning through git-credential-oidc, with no prompt",
	"== Asking docker-credential-oidc for " + registry + "'s credentials",
	"== What is stored",
	"== Cleaning up",
}

// Shapes of a token that must never be printed: a JWT, or a long run of
// base64url characters (the test server's opaque tokens have 43).
var (
	jwtShape  = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)
	longRun   = regexp.MustCompile(`[A-Za-z0-9_-]{43,}`)
	dockerGet = regexp.MustCompile(`(?m)^\{"ServerURL":"` + regexp.QuoteMeta(registry) + `","Username":"` + username + `","Secret":"<access token, [0-9]+ chars>"\}$`)
)

// TestDemo runs the README's first command as it runs for a person and
// checks that every step succeeds, that the clone and the docker answer
// arrive, that no secret the servers issued is printed, and that nothing is
// left behind.
func TestDemo(t *testing.T) {
	// The demo is what a person runs with `go run`: it builds the binaries
	// with go and clones with git.
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go on PATH: the demo builds the binaries with go build, as a person runs it from a checkout")
	}
	gitserver.RequireGit(t)
	var out lockedBuffer
	start := time.Now()
	rep, err := run(context.Background(), &out, &out)
	t.Logf("the demo took %v", time.Since(start).Round(time.Millisecond))
	text := out.String()
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, text)
	}
	rest := text
	for _, h := range headings {
		i := strings.Index(rest, h)
		if i < 0 {
			t.Fatalf("no heading %q after the previous ones\n%s", h, text)
		}
		rest = rest[i+len(h):]
	}
	if !strings.Contains(text, "$ cat app/README.md\n# "+repoName+"\n") {
		t.Errorf("the demo shows no file of the clone\n%s", text)
	}
	if !dockerGet.MatchString(text) {
		t.Errorf("no masked docker-credential-oidc answer matching %v\n%s", dockerGet, text)
	}
	if len(rep.Issued) < 3 {
		t.Fatalf("the servers issued %d secrets, want a device code, an access and a refresh token at least", len(rep.Issued))
	}
	for _, s := range rep.Issued {
		if strings.Contains(text, s) {
			t.Errorf("the output contains a secret the auth server issued (%.6s…)", s)
		}
	}
	for _, re := range []*regexp.Regexp{jwtShape, longRun} {
		if m := re.FindString(text); m != "" {
			t.Errorf("the output contains something shaped like a token (%.6s…, %d chars)", m, len(m))
		}
	}
	if _, err := os.Stat(rep.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the demo left %s behind (%v)", rep.Dir, err)
	}
}
