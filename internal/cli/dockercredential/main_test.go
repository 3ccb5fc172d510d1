package dockercredential

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

// BenchmarkDockerHelperGetCached is the work of one
// `docker-credential-oidc get` that docker starts for a registry whose
// server has a valid stored token, in process, with no request.
func BenchmarkDockerHelperGetCached(b *testing.B) {
	access := testfs.CachedLogin(b)
	var stdout bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		stdout.Reset()
		if code := run(context.Background(), "", []string{"docker-credential-oidc", "get"}, strings.NewReader("https://auth.example.org"), &stdout, &bytes.Buffer{}); code != 0 {
			b.Fatalf("exit %d: %s", code, stdout.String())
		}
	}
	if !strings.Contains(stdout.String(), `"Secret":"`+access+`"`) {
		b.Fatalf("answer %.80q", stdout.String())
	}
}
