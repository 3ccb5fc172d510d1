//go:build (dragonfly && cgo) || (freebsd && cgo) || netbsd || openbsd

package secretservice

import (
	"github.com/godbus/dbus/v5"
)

// The BSDs read the Secret Service with godbus, as keyring's go-keyring
// does, rather than with the small client Linux uses (dbus_linux.go):
// on FreeBSD and DragonFly the bus checks the EXTERNAL authentication
// against credentials sent with SCM_CREDS, which godbus sends and that
// client does not, and the client has been tried on Linux only.

// secret is the Secret Service's Secret struct, (oayays).
type secret struct {
	Session     dbus.ObjectPath
	Parameters  []byte
	Value       []byte
	ContentType string
}

// Get returns the secrets of users under service, in their order, in two
// round trips however many users there are (go-keyring takes seven for
// one): the searches for the items and the opening of a session go out
// together, then all the items' secrets are asked for at once, and the
// session is closed. The error is
// ErrNotFound when a user has no item at all, ErrUnusual when an item is
// not one Get reads itself (see the package documentation), or the error
// of reaching the session bus. The caller must have checked BusMissing.
// Gets of the user's processes go one at a time (lockReads).
func Get(service string, users ...string) ([]string, error) {
	defer lockReads()() // one reader of the user's at a time (lock_unix.go)
	conn, err := dbus.SessionBus()
	if err != nil {
		return nil, err
	}
	svc := conn.Object(secretsName, secretsPath)
	searches := make([]*dbus.Call, len(users))
	for i, user := range users {
		searches[i] = svc.Go(secretsService+".SearchItems", 0, nil, map[string]string{"username": user, "service": service})
	}
	open := svc.Go(secretsService+".OpenSession", 0, nil, "plain", dbus.MakeVariant(""))
	items := make([]dbus.ObjectPath, len(users))
	var searchErr error
	for i, call := range searches {
		var unlocked, locked []dbus.ObjectPath
		if err := (<-call.Done).Store(&unlocked, &locked); err != nil {
			searchErr = ErrUnusual
			continue
		}
		paths := make([]string, len(unlocked))
		for j, p := range unlocked {
			paths[j] = string(p)
		}
		item, err := loginItem(paths, len(locked))
		if err != nil {
			searchErr = cmpErr(searchErr, err)
		}
		items[i] = dbus.ObjectPath(item)
	}
	var ignored dbus.Variant
	var session dbus.ObjectPath
	if err := (<-open.Done).Store(&ignored, &session); err != nil {
		return nil, ErrUnusual
	}
	// The session is closed and the answer waited for, as go-keyring
	// closes its sessions (see get_linux.go).
	defer conn.Object(secretsName, session).Call(secretsSession+".Close", 0)
	if searchErr != nil {
		return nil, searchErr
	}
	var secrets map[dbus.ObjectPath]secret
	if err := svc.Call(secretsService+".GetSecrets", 0, items, session).Store(&secrets); err != nil {
		return nil, ErrUnusual
	}
	values := make([]string, len(users))
	for i, item := range items {
		s, ok := secrets[item]
		if !ok {
			return nil, ErrUnusual
		}
		values[i] = string(s.Value)
	}
	return values, nil
}
