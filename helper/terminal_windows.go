//go:build windows

package helper

import (
	"io"
	"os"
)

// OpenTerminal opens the console for writing, where a person sees a
// login's prompts even when git or docker capture the helper's stdio. It
// fails when the process has no console.
func OpenTerminal() (io.WriteCloser, error) {
	return os.OpenFile("CONOUT$", os.O_WRONLY, 0)
}
