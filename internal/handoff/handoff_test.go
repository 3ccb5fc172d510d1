package handoff

import (
	"testing"

	"github.com/oidc-auth/oidc-auth/internal/gitproto"
)

// TestBlankLine: the git command stops reading at the first empty line,
// as helper.ParseGitRequest stops there, whichever read brought it.
func TestBlankLine(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		from int
		want bool
	}{
		{"", 0, false},
		{"\n", 0, true},
		{"\r\n", 0, true},
		{"protocol=https\nhost=x\n", 0, false},
		{"protocol=https\nhost=x\n\n", 0, true},
		{"protocol=https\r\nhost=x\r\n\r\n", 0, true},
		{"protocol=https\nhost=x\n\n", 22, true}, // the read that brought only the last "\n"
		{"protocol=https\nhost=x\n\n", 23, false},
		{"a=b\n\rc=d\n", 0, false}, // "\r" that does not end the line
		{"a=b\r\r\n", 0, false},
		{"a=\n\nb", 0, true},
	} {
		if got := gitproto.EndsRequest([]byte(tt.in), tt.from); got != tt.want {
			t.Errorf("gitproto.EndsRequest(%q, %d) = %v, want %v", tt.in, tt.from, got, tt.want)
		}
	}
}

// TestSafe: a path printed on the terminal carries no control characters.
func TestSafe(t *testing.T) {
	t.Parallel()
	if got := safe("/opt/a\x1b[2Jb\u009bc/d\n"); got != "/opt/a?[2Jb?c/d?" {
		t.Errorf("safe = %q", got)
	}
}
