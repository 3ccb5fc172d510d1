package handoff

import "os"

// AdoptLock removes LockEnv from the environment: on Windows the commands
// answer nothing themselves, take no lock and hand none over.
func AdoptLock() { os.Unsetenv(LockEnv) }
