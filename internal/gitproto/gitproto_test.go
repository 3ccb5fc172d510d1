package gitproto

import (
	"fmt"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/internal/config"
)

// TestWithoutFmt checks what the package writes by hand, so as not to
// import fmt and config, against what they write.
func TestWithoutFmt(t *testing.T) {
	if authBasic != config.AuthBasic || authBearer != config.AuthBearer {
		t.Fatalf("auth values %q %q, config's %q %q", authBasic, authBearer, config.AuthBasic, config.AuthBearer)
	}
	for _, s := range []string{"", "short", strings.Repeat("é", 70), "a\x00b\nc\"" + strings.Repeat("x", 50), "\xff\xfe" + strings.Repeat("y", 61)} {
		for _, n := range []int{40, 60} {
			if got, want := quote(s, n), fmt.Sprintf("%.*q", n, s); got != want {
				t.Errorf("quote(%q, %d) = %s, fmt: %s", s, n, got, want)
			}
		}
	}
	_, err := ParseRequest(strings.NewReader("protocol=https\nno equals sign here " + strings.Repeat("z", 40) + "\n"))
	if want := fmt.Sprintf("helper: the credential request has a line without key=value (%.40q)", "no equals sign here "+strings.Repeat("z", 40)); err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	for _, tc := range []struct{ v, want string }{
		{"=x", fmt.Sprintf("helper: WWW-Authenticate %.60q: %s at byte %d", "=x", fmt.Sprintf("%q where an auth-scheme belongs", '='), 0)},
		{"Bearer realm=\"a\x01\"", fmt.Sprintf("helper: WWW-Authenticate %.60q: %s at byte %d", "Bearer realm=\"a\x01\"", fmt.Sprintf("control character %q in a quoted string", byte(1)), 15)},
	} {
		if _, err := ParseChallenges(tc.v); err == nil || err.Error() != tc.want {
			t.Errorf("ParseChallenges(%q): %v, want %s", tc.v, err, tc.want)
		}
	}
}
