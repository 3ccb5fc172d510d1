//go:build !windows

// Unix only: the screen is drawn on a pseudo-terminal (creack/pty), which Windows consoles do not offer.

package flows

import (
	"io"
	"os"
	"strings"
	"testing"

	"github.com/creack/pty"
)

// TestNewScreen opens real pseudo-terminals: a terminal's size and
// NO_COLOR decide the screen; a pipe is no terminal.
func TestNewScreen(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		vars       map[string]string
		rows, cols uint16
		bold       bool
	}{
		{"colour", map[string]string{"TERM": "xterm-256color"}, 50, 132, true},
		{"NO_COLOR", map[string]string{"TERM": "xterm-256color", "NO_COLOR": "1"}, 24, 80, false},
		{"dumb terminal", map[string]string{"TERM": "dumb"}, 24, 80, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ptm, tty, err := pty.Open()
			if err != nil {
				t.Skipf("no pseudo-terminal here: %v", err)
			}
			defer ptm.Close()
			defer tty.Close()
			go io.Copy(io.Discard, ptm)
			if err := pty.Setsize(tty, &pty.Winsize{Rows: tt.rows, Cols: tt.cols}); err != nil {
				t.Fatal(err)
			}
			s := newScreen(tty, fakeEnv("linux", tt.vars, nil, nil))
			if !s.tty || s.bold != tt.bold || s.cols != int(tt.cols) || s.rows != int(tt.rows) {
				t.Errorf("screen %+v, want a terminal of %dx%d, bold %v", *s, tt.cols, tt.rows, tt.bold)
			}
		})
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	if s := newScreen(pw, Environment{}); s.tty || s.bold {
		t.Errorf("a pipe is taken for a terminal: %+v", *s)
	}
	if s := newScreen(&strings.Builder{}, Environment{}); s.tty {
		t.Errorf("a buffer is taken for a terminal")
	}
}
