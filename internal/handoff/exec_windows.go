package handoff

import (
	"io"
	"os"
	"os/signal"
)

// exeSuffix is the file name suffix of programs.
const exeSuffix = ".exe"

// isProgram reports whether path is a file.
func isProgram(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// run starts the core as a child, Windows having no exec, and returns its
// exit code. The console delivers Ctrl-C to the child too, which decides
// what it means; the front only waits.
func run(program, core string, argv []string, stdin io.Reader) int {
	signal.Ignore(os.Interrupt)
	return spawn(program, core, argv, stdin, nil)
}

// exitCode is the core's exit code.
func exitCode(st *os.ProcessState) int { return st.ExitCode() }
