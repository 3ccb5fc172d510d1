// Unix only: the fake bus these tests read is the Linux client's (dbus_linux.go); the lock is the Secret Service's, which Windows does not have.

package secretservice

import (
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// TestGetsGoOneAtATime: bursts of Gets at once, as helpers make them,
// reach the bus one connection at a time (gnome-keyring-daemon aborts
// under several at once; see lock_unix.go), and all of them answer.
func TestGetsGoOneAtATime(t *testing.T) {
	privateRuntimeDir(t)
	fb := newFakeBusIn(t)
	var mu sync.Mutex
	open, most := 0, 0
	fb.set(func() {
		fb.items = []fakeItem{{user: "a", secret: "A"}}
		fb.answer = func(call *dbus.Message, out [][]byte) [][]byte {
			mu.Lock()
			defer mu.Unlock()
			switch member(call) {
			case "Hello":
				open++
				most = max(most, open)
			case "OpenSession":
				time.Sleep(2 * time.Millisecond) // a daemon that takes its time
			case "Close":
				open--
			}
			return out
		}
	})
	const bursts, readers = 10, 8
	go func() { // serve's end of each connection
		for range bursts * readers {
			<-fb.ended
		}
	}()
	for range bursts { // each reader reads once, as each command does
		var wg sync.WaitGroup
		for range readers {
			wg.Go(func() {
				if got, err := Get(fakeService, "a"); err != nil || len(got) != 1 || got[0] != "A" {
					t.Errorf("Get = %q, %v", got, err)
				}
			})
		}
		wg.Wait()
	}
	if most != 1 {
		t.Errorf("%d connections were at the bus at once; want 1", most)
	}
}
