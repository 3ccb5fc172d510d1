package flows

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDebugMasksNotedSecretsAndJWTs(t *testing.T) {
	var buf bytes.Buffer
	ctx := WithDebug(context.Background(), &buf, DebugDecisions, "oidc-auth")
	NoteSecret(ctx, "refresh-secret-0123456789")
	Debugf(ctx, DebugDecisions, "sent %s and %s, got %s", "refresh-secret-0123456789",
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "\x1b[31mred")
	Debugf(ctx, DebugDetails, "not shown at -v")
	out := buf.String()
	for _, leak := range []string{"refresh-secret", "eyJhbGci", "\x1b", "not shown"} {
		if strings.Contains(out, leak) {
			t.Errorf("debug output holds %q: %q", leak, out)
		}
	}
	if !strings.Contains(out, "oidc-auth: debug +") || strings.Count(out, "\n") != 1 {
		t.Errorf("want one debug line, got %q", out)
	}
}

func TestDebugOffWritesNothing(t *testing.T) {
	ctx := WithDebug(context.Background(), nil, DebugDetails, "x")
	if DebugEnabled(ctx, DebugDecisions) {
		t.Fatal("debug enabled without a writer")
	}
	Debugf(ctx, DebugDecisions, "nothing") // must not panic
	NoteSecret(ctx, "s")
}

func TestDebugLevelFromEnv(t *testing.T) {
	for v, want := range map[string]int{"": 0, "0": 0, "false": 0, "1": 1, "true": 1, "2": 2, "9": 2, "yes": 1} {
		t.Setenv(DebugEnv, v)
		if got := DebugLevelFromEnv(); got != want {
			t.Errorf("%s=%q: level %d, want %d", DebugEnv, v, got, want)
		}
	}
}
