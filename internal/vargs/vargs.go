// Package vargs is the part of the -v flag of the oidc-auth binaries that
// needs no command line library: spelling out -vv and the flag's usage
// text. The credential helpers parse their few flags without one, so that
// a process git or docker starts on every operation loads no more than it
// uses.
package vargs

import (
	"strings"

	"github.com/oidc-auth/oidc-auth/flows"
)

// Usage is the help text of the -v/--verbose flag.
const Usage = "show requests, answers and decisions on stderr, secrets masked; -vv adds details (or $" + flows.DebugEnv + "=1 or 2)"

// Expand spells out -vv (and -vvv) before a "--" as -v -v, which the flag
// parser does not know.
func Expand(args []string) []string {
	var out []string
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && strings.Trim(a[1:], "v") == "" {
			for range len(a) - 1 {
				out = append(out, "-v")
			}
			continue
		}
		out = append(out, a)
	}
	return out
}
