package handoff

import "os"

// AdoptLock removes LockEnv from the environment: on Windows the commands
// take no lock and hand none over (the core, started as a child there,
// waits for another process's refresh itself).
func AdoptLock() { os.Unsetenv(LockEnv) }
