package secretservice

import (
	"errors"
	"strconv"
)

// Get returns the secrets of users under service, in their order, in three
// round trips however many users there are (go-keyring takes seven for
// one): the searches for the items and the opening of a session go out
// together, then all the items' secrets are asked for at once, then the
// session is closed. The error is
// ErrNotFound when a user has no item at all, ErrUnusual when an item is
// not one Get reads itself (see the package documentation), or the error
// of reaching the session bus. The caller must have checked BusMissing.
// Gets of the user's processes go one at a time (lockReads).
//
// It talks to the bus with the client of dbus_linux.go, a connection
// per Get, where godbus shares one in a process. Its answers are
// godbus's, and so are its errors, but where the client cannot do what
// godbus does, or godbus would wait for ever: a bus reached over another
// transport than a unix socket only, or one that sends a message the
// client does not parse, is ErrUnusual, which the caller answers with
// go-keyring's read, which uses godbus; a bus whose address is nowhere
// is an error where godbus would start one (BusMissing has ruled that
// out); a bus that does not answer within a few seconds is an error
// where godbus waits. Hello, which godbus sends and waits for before
// anything else, goes out with the first calls: a bus that hangs up or
// falls silent before its reply, or refuses Hello, is the error of
// reaching the bus, as it is with godbus; after it, any failure is a
// call's, ErrUnusual.
func Get(service string, users ...string) ([]string, error) {
	defer lockReads()() // one reader of the user's at a time (lock_unix.go)
	c, err := dialSessionBus()
	if err != nil {
		return nil, err
	}
	defer c.close()
	if !validString(service) {
		return nil, ErrUnusual // godbus refuses to send the calls
	}
	for _, user := range users {
		if !validString(user) {
			return nil, ErrUnusual
		}
	}
	hello := c.call(busName, busPath, busInterface, "Hello", 0, "", nil)
	want := make(map[uint32]*message, len(users)+2)
	want[hello] = nil
	searches := make([]uint32, len(users))
	for i, user := range users {
		searches[i] = c.call(secretsName, secretsPath, secretsService, "SearchItems", 0, "a{ss}", searchItemsBody(service, user))
		want[searches[i]] = nil
	}
	open := c.call(secretsName, secretsPath, secretsService, "OpenSession", 0, "sv", openSessionBody())
	want[open] = nil
	err = c.flush()
	if err == nil {
		err = c.replies(want)
	}
	if want[hello] == nil {
		return nil, err // not nil: replies returns with every reply
	}
	if !decodeHello(want[hello]) {
		return nil, helloError(want[hello])
	}
	if err != nil {
		return nil, ErrUnusual
	}
	items := make([]string, len(users))
	var searchErr error
	for i, serial := range searches {
		unlocked, locked, ok := decodeSearchItems(want[serial])
		if !ok {
			searchErr = ErrUnusual
			continue
		}
		var err error
		if items[i], err = loginItem(unlocked, len(locked)); err != nil {
			searchErr = cmpErr(searchErr, err)
		}
	}
	session, ok := decodeOpenSession(want[open])
	if !ok {
		return nil, ErrUnusual
	}
	// The session is closed, and its answer waited for, before the
	// connection hangs up, as go-keyring closes its sessions.
	// gnome-keyring-daemon exits when a client hangs up just after a Close
	// it does not wait for (within 34 to 2,124 gets in a row here), and
	// sometimes when it hangs up with a session open while other clients
	// are busy; D-Bus then starts another daemon, whose login keyring is
	// locked until someone types its password.
	defer func() {
		end := c.call(secretsName, session, secretsSession, "Close", 0, "", nil)
		if c.flush() == nil {
			c.replies(map[uint32]*message{end: nil})
		}
	}()
	if searchErr != nil {
		return nil, searchErr
	}
	get := c.call(secretsName, secretsPath, secretsService, "GetSecrets", 0, "aoo", getSecretsBody(items, session))
	want = map[uint32]*message{get: nil}
	if err := c.flush(); err != nil {
		return nil, ErrUnusual
	}
	if err := c.replies(want); err != nil {
		return nil, ErrUnusual
	}
	secrets, ok := decodeGetSecrets(want[get])
	if !ok {
		return nil, ErrUnusual
	}
	values := make([]string, len(users))
	for i, item := range items {
		v, ok := secrets[item]
		if !ok {
			return nil, ErrUnusual
		}
		values[i] = v
	}
	return values, nil
}

// helloError is the error of a bus that refused Hello (m, an error
// reply, or a reply with something else than the unique name): not
// ErrUnusual, since godbus fails to connect there too.
func helloError(m *message) error {
	if m.typ == typeError {
		return errors.New("secretservice: the session bus refused Hello: " + m.errorName)
	}
	return errors.New("secretservice: the session bus answered Hello with a reply of signature " + strconv.Quote(m.signature))
}

// searchItemsBody encodes SearchItems' argument, the attributes
// {"username": user, "service": service} (a{ss}).
func searchItemsBody(service, user string) []byte {
	var e encoder
	e.array(8, func() {
		for _, kv := range [...][2]string{{"username", user}, {"service", service}} {
			e.align(8)
			e.string(kv[0])
			e.string(kv[1])
		}
	})
	return e.b
}

// openSessionBody encodes OpenSession's arguments: the algorithm
// "plain", and its input, a variant holding "" (sv).
func openSessionBody() []byte {
	var e encoder
	e.string("plain")
	e.signature("s")
	e.string("")
	return e.b
}

// getSecretsBody encodes GetSecrets' arguments: the items, and the
// session the secrets travel in (aoo).
func getSecretsBody(items []string, session string) []byte {
	var e encoder
	e.array(4, func() {
		for _, item := range items {
			e.string(item)
		}
	})
	e.string(session)
	return e.b
}

// decodeHello says whether m is a method return with the connection's
// unique name (s), what godbus's Hello stores.
func decodeHello(m *message) bool {
	if m.typ != typeMethodReturn || m.signature != "s" {
		return false
	}
	d := m.bodyDecoder()
	_, ok := d.string()
	return ok && d.pos == len(d.b)
}

// decodeSearchItems reads SearchItems' reply, the unlocked items and the
// locked ones (aoao); false for an error reply, another signature or a
// body that does not parse, where godbus's Store fails.
func decodeSearchItems(m *message) (unlocked, locked []string, ok bool) {
	if m.typ != typeMethodReturn || m.signature != "aoao" {
		return nil, nil, false
	}
	d := m.bodyDecoder()
	if unlocked, ok = d.objectPaths(); !ok {
		return nil, nil, false
	}
	if locked, ok = d.objectPaths(); !ok || d.pos != len(d.b) {
		return nil, nil, false
	}
	return unlocked, locked, true
}

// decodeOpenSession reads OpenSession's reply, the algorithm's output
// (a variant of any type, which "plain" leaves empty, ignored) and the
// session (vo); false as for decodeSearchItems.
func decodeOpenSession(m *message) (session string, ok bool) {
	if m.typ != typeMethodReturn || m.signature != "vo" {
		return "", false
	}
	d := m.bodyDecoder()
	if !d.skip("v", 0) {
		return "", false
	}
	session, ok = d.objectPath()
	if !ok || d.pos != len(d.b) {
		return "", false
	}
	return session, true
}

// decodeGetSecrets reads GetSecrets' reply, the secrets by item, each a
// Secret struct (session, parameters, value, content type) of which Get
// keeps the value (a{o(oayays)}); false as for decodeSearchItems. An
// item that comes twice keeps its last value, as in godbus's map.
func decodeGetSecrets(m *message) (map[string]string, bool) {
	if m.typ != typeMethodReturn || m.signature != "a{o(oayays)}" {
		return nil, false
	}
	d := m.bodyDecoder()
	end, ok := d.array(8)
	if !ok {
		return nil, false
	}
	secrets := make(map[string]string)
	for d.pos < end {
		if !d.align(8) {
			return nil, false
		}
		item, ok := d.objectPath()
		if !ok || !d.align(8) {
			return nil, false
		}
		if _, ok := d.objectPath(); !ok {
			return nil, false
		}
		if _, ok := d.byteArray(); !ok {
			return nil, false
		}
		value, ok := d.byteArray()
		if !ok {
			return nil, false
		}
		if _, ok := d.string(); !ok {
			return nil, false
		}
		secrets[item] = string(value)
	}
	if d.pos != end || d.pos != len(d.b) {
		return nil, false
	}
	return secrets, true
}
