//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keyring

import (
	"strings"

	"github.com/godbus/dbus/v5"
	gokeyring "github.com/zalando/go-keyring"
	ss "github.com/zalando/go-keyring/secret_service"
)

// The Secret Service's names (see
// https://specifications.freedesktop.org/secret-service-spec/latest/).
const (
	secretsName     = "org.freedesktop.secrets"
	secretsPath     = "/org/freedesktop/secrets"
	secretsService  = "org.freedesktop.Secret.Service"
	secretsSession  = "org.freedesktop.Secret.Session"
	loginCollection = "/org/freedesktop/secrets/collection/login/"
)

// keychainGet reads the secret of service and user from the Secret
// Service in two round trips where go-keyring takes seven: the search of
// the items and the opening of a session go out together, then the item's
// secret is asked for, and the session is closed without waiting for the
// answer. go-keyring looks in the login collection, unlocking it first;
// so this reads an unlocked item of the login collection only, and leaves
// every other case (a locked item, an item in another collection, a
// Secret Service that refuses the calls) to go-keyring's Get, which
// unlocks and prompts as it always does.
func keychainGet(service, user string) (string, error) {
	conn, err := dbus.SessionBus()
	if err != nil {
		return "", err
	}
	svc := conn.Object(secretsName, secretsPath)
	search := svc.Go(secretsService+".SearchItems", 0, nil, map[string]string{"username": user, "service": service})
	open := svc.Go(secretsService+".OpenSession", 0, nil, "plain", dbus.MakeVariant(""))
	var unlocked, locked []dbus.ObjectPath
	searchErr := (<-search.Done).Store(&unlocked, &locked)
	var ignored dbus.Variant
	var session dbus.ObjectPath
	if err := (<-open.Done).Store(&ignored, &session); err != nil {
		return gokeyring.Get(service, user)
	}
	defer conn.Object(secretsName, session).Go(secretsSession+".Close", dbus.FlagNoReplyExpected, nil)
	if searchErr != nil {
		return gokeyring.Get(service, user)
	}
	item := dbus.ObjectPath("")
	for _, p := range unlocked {
		if strings.HasPrefix(string(p), loginCollection) {
			item = p
			break
		}
	}
	switch {
	case item == "" && len(unlocked) == 0 && len(locked) == 0:
		return "", gokeyring.ErrNotFound
	case item == "":
		return gokeyring.Get(service, user)
	}
	var secrets map[dbus.ObjectPath]ss.Secret
	if err := svc.Call(secretsService+".GetSecrets", 0, []dbus.ObjectPath{item}, session).Store(&secrets); err != nil {
		return gokeyring.Get(service, user)
	}
	secret, ok := secrets[item]
	if !ok {
		return gokeyring.Get(service, user)
	}
	return string(secret.Value), nil
}
