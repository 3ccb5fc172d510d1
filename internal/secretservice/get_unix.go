//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package secretservice

import (
	"strconv"
	"strings"
	"syscall"
)

// Supported says whether the keychain here is the Secret Service.
const Supported = true

// The Secret Service's names (see
// https://specifications.freedesktop.org/secret-service-spec/latest/).
const (
	secretsName     = "org.freedesktop.secrets"
	secretsPath     = "/org/freedesktop/secrets"
	secretsService  = "org.freedesktop.Secret.Service"
	secretsSession  = "org.freedesktop.Secret.Session"
	loginCollection = "/org/freedesktop/secrets/collection/login/"
)

// BusMissing reports why no D-Bus session bus can be found without
// starting one, or "" when there is one. godbus, finding no bus, runs
// `dbus-launch --autolaunch`: each process on a headless machine would
// leave a new dbus-daemon and keyring daemon behind. So the keychain
// counts as absent unless godbus would find an existing bus the way it
// looks for one: $DBUS_SESSION_BUS_ADDRESS, or /run/user/<uid>/bus or
// /dbus-session. (On Linux Get finds the bus the same way, with a client
// of its own that never starts one either; see dbus_linux.go.)
func BusMissing() string {
	if a := getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return ""
	}
	dir := "/run/user/" + strconv.Itoa(syscall.Getuid())
	for _, name := range []string{"/bus", "/dbus-session"} {
		var st syscall.Stat_t
		if syscall.Stat(dir+name, &st) == nil {
			return ""
		}
	}
	return "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set"
}

// getenv is os.Getenv, with syscall: the package imports no os, for
// internal/lean.
func getenv(k string) string {
	v, _ := syscall.Getenv(k)
	return v
}

// cmpErr keeps ErrUnusual over ErrNotFound: an item Get cannot read may
// be there.
func cmpErr(old, err error) error {
	if old == ErrUnusual {
		return old
	}
	return err
}

// loginItem returns the item of one search's answer that Get reads: the
// first unlocked item of the login collection. The error is ErrNotFound
// when the search found no item at all, and ErrUnusual when it found
// none that Get reads (locked, or in another collection).
func loginItem(unlocked []string, locked int) (string, error) {
	for _, p := range unlocked {
		if strings.HasPrefix(p, loginCollection) {
			return p, nil
		}
	}
	if len(unlocked) == 0 && locked == 0 {
		return "", ErrNotFound
	}
	return "", ErrUnusual
}
