package oidcauth

import (
	"context"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
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
