package handoff

import "os"

// Exit ends a command that answered a request itself (see internal/fast):
// with 0, or, when writing the answer failed with err, with err's line for
// people and 1, as the core ends after a failed write.
func Exit(program string, err error) {
	if err != nil {
		fail(program, safe(err.Error()))
	}
	os.Exit(0)
}
