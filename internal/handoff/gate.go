package handoff

// LockEnv names the environment variable through which a command hands
// oidc-auth-core the descriptor of a lock it holds (see fast.PassGate): the core keeps it, and with it the lock, for as long as
// it runs. It is no setting for people; the core removes it from its own
// environment at start, so that nothing it starts sees it.
const LockEnv = "OIDC_AUTH_HANDOFF_LOCK"
