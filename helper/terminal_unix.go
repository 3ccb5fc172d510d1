//go:build !windows

package helper

import (
	"io"
	"os"
)

// OpenTerminal opens the controlling terminal for writing, where a person
// sees a login's prompts even when git or docker capture the helper's
// stdio. It fails when the process has no terminal (a CI job, a daemon).
func OpenTerminal() (io.WriteCloser, error) {
	return os.OpenFile("/dev/tty", os.O_WRONLY, 0)
}
