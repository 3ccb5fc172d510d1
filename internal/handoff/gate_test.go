package handoff

import (
	"os"
	"testing"
)

// TestAdoptLockUnsets checks that the variable never reaches what the
// core starts, on every system.
func TestAdoptLockUnsets(t *testing.T) {
	t.Setenv(LockEnv, "x")
	AdoptLock()
	if _, ok := os.LookupEnv(LockEnv); ok {
		t.Errorf("%s is still set", LockEnv)
	}
}
