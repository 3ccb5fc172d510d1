//go:build windows

package integration

import "os/exec"

// detach leaves cmd as it is: the end-to-end tests run on Unix.
func detach(cmd *exec.Cmd) {}
