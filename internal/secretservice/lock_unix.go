//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package secretservice

import (
	"strconv"
	"sync"
	"syscall"
	"time"
)

// gnome-keyring-daemon (42 to 50 at least) aborts when several clients
// connect, call and hang up at once: a connection's calls find no client
// record ("assertion 'client' failed"), and a NULL reply kills the
// daemon. D-Bus then starts another one whose login keyring is locked
// until the user types its password. A burst of helpers (git fetch
// --jobs, parallel docker pulls) is just that; go-keyring's calls on a
// connection each trip it as ours do. So the reads of one user's
// processes go one at a time, under an exclusive lock on a file in the
// user's runtime directory: four readers at once crashed the daemon
// within 162 to 3,689 reads, and never in 18,000 under the lock. The lock
// makes it rare, not impossible: the daemon makes its record of a client
// in an idle callback its message filter schedules, and a call can still
// find none now and then even with one client at a time. On a loaded
// machine, under -race, eight readers in bursts had 10 calls refused in
// 20,000 reads without the lock and 2 in 80,000 with it, and the daemon
// exited once in each.

// lockName is the lock file's name in the runtime directory.
const lockName = "oidc-auth-secret-service.lock"

// lockWait is how long Get waits for the lock before it reads without
// it. A burst of reads of a few milliseconds each passes well within it,
// even on a loaded machine where a read takes 50 ms (300 ms was too
// short there: readers gave up and met at the daemon, which aborted);
// a holder that hangs costs the others no more. The commands wait 1 s
// for the whole read (fast.keychainWait), and then hand the request to
// oidc-auth-core.
var lockWait = 2 * time.Second

// lockReads takes the lock of the user's reads and returns what drops it.
// Where there is no private runtime directory, or the lock file is not a
// regular file of the user's own, or the lock does not come within
// lockWait, it takes none: the read goes on as it would without it.
func lockReads() (unlock func()) {
	nothing := func() {}
	dir := runtimeDir()
	if dir == "" {
		return nothing
	}
	fd, err := syscall.Open(dir+"/"+lockName, syscall.O_RDWR|syscall.O_CREAT|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nothing
	}
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFREG || st.Uid != uint32(syscall.Getuid()) {
		syscall.Close(fd)
		return nothing
	}
	unlock = func() { syscall.Close(fd) } // which drops the lock
	if syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB) == nil {
		return unlock
	}
	if waitLock(fd, lockWait) {
		return unlock
	}
	return nothing // waitLock closes fd once it has the lock
}

// waitLock waits for the exclusive lock of fd, for at most d, and
// reports whether it has it. It blocks in flock, which costs no
// processor time while a burst waits; when d runs out first, the
// blocked call is left behind, and closes fd (dropping the lock) as soon
// as it gets it.
func waitLock(fd int, d time.Duration) bool {
	var mu sync.Mutex
	abandoned := false
	done := make(chan bool, 1)
	go func() {
		err := syscall.Flock(fd, syscall.LOCK_EX)
		for err == syscall.EINTR {
			err = syscall.Flock(fd, syscall.LOCK_EX)
		}
		mu.Lock()
		defer mu.Unlock()
		if abandoned || err != nil {
			syscall.Close(fd)
		}
		done <- err == nil && !abandoned
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case ok := <-done:
		return ok
	case <-t.C:
	}
	mu.Lock()
	defer mu.Unlock()
	select {
	case ok := <-done: // it came just now
		return ok
	default:
		abandoned = true
		return false
	}
}

// runtimeDir is the user's runtime directory, $XDG_RUNTIME_DIR or else
// /run/user/<uid>, where the session bus's socket usually is (see
// privateDir).
func runtimeDir() string {
	return privateDir(getenv("XDG_RUNTIME_DIR"), "/run/user/"+strconv.Itoa(syscall.Getuid()))
}

// privateDir is dir, or fallback when dir is "": "" unless it is a
// directory of the user's own that nobody else may enter.
func privateDir(dir, fallback string) string {
	if dir == "" {
		dir = fallback
	}
	var st syscall.Stat_t
	if syscall.Lstat(dir, &st) != nil || uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFDIR ||
		st.Uid != uint32(syscall.Getuid()) || st.Mode&0o077 != 0 {
		return ""
	}
	return dir
}

// Exclusive runs f, a call of go-keyring's to the Secret Service, under
// the lock Get reads under (lockReads), so that the user's processes'
// writes do not meet each other or the reads at the daemon either.
func Exclusive(f func() error) error {
	defer lockReads()()
	return f()
}
