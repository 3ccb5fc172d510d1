//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keyring

import (
	"os"
	"strconv"
)

// sessionBusMissing reports why no D-Bus session bus can be found without
// starting one, or "" when there is one. go-keyring reaches the Secret
// Service through godbus, which, finding no bus, runs `dbus-launch
// --autolaunch`: each oidc-auth process on a headless machine would leave
// a new dbus-daemon and keyring daemon behind. So the keychain counts as
// absent unless godbus would find an existing bus the way it looks for one:
// $DBUS_SESSION_BUS_ADDRESS, or /run/user/<uid>/bus or /dbus-session.
func sessionBusMissing() string {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return ""
	}
	dir := "/run/user/" + strconv.Itoa(os.Getuid())
	for _, name := range []string{"/bus", "/dbus-session"} {
		if _, err := os.Stat(dir + name); err == nil {
			return ""
		}
	}
	return "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set"
}
