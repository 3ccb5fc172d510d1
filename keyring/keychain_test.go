package keyring_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// fakeKeychain is a map-backed keychain. err, when set, is returned by
// every call; block, when set, makes every call wait until it is closed.
// Secrets larger than limit are refused as the real keychains refuse them.
type fakeKeychain struct {
	mu    sync.Mutex
	items map[string]string
	sets  map[string]int // Set calls per user
	calls int
	limit int
	err   error
	block chan struct{}
}

var _ keyring.Keychain = (*fakeKeychain)(nil)

func newFakeKeychain() *fakeKeychain {
	return &fakeKeychain{items: map[string]string{}, sets: map[string]int{}, limit: 2560}
}

func (f *fakeKeychain) enter() error {
	f.mu.Lock()
	f.calls++
	block, err := f.block, f.err
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	return err
}

func (f *fakeKeychain) Get(service, user string) (string, error) {
	if err := f.enter(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[service+"\x00"+user]
	if !ok {
		return "", gokeyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeKeychain) Set(service, user, secret string) error {
	if err := f.enter(); err != nil {
		return err
	}
	if len(secret) > f.limit {
		return gokeyring.ErrSetDataTooBig
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[service+"\x00"+user] = secret
	f.sets[user]++
	return nil
}

func (f *fakeKeychain) Delete(service, user string) error {
	if err := f.enter(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.items[service+"\x00"+user]; !ok {
		return gokeyring.ErrNotFound
	}
	delete(f.items, service+"\x00"+user)
	return nil
}

// users lists the item names of service, sorted.
func (f *fakeKeychain) users(service string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.items {
		if s, u, _ := strings.Cut(k, "\x00"); s == service {
			out = append(out, u)
		}
	}
	return sortedCopy(out)
}

func (f *fakeKeychain) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeKeychain) set(service, user, v string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[service+"\x00"+user] = v
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func newKeychainStore(t *testing.T, kc keyring.Keychain) *keyring.KeychainStore {
	return &keyring.KeychainStore{Service: "oidc-auth-test", Keychain: kc, LockDir: t.TempDir(), Now: func() time.Time { return storeNow }}
}

// bigToken has an access token of n bytes, like the large JWTs some
// providers issue.
func bigToken(n int, seed string) keyring.Token {
	tok := sampleToken(strings.Repeat(seed, n/len(seed)+1)[:n])
	tok.RefreshToken = "refresh-" + seed
	return tok
}

func TestKeychainStoreRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kc := newFakeKeychain()
	s := newKeychainStore(t, kc)
	if _, err := s.Get(ctx, "auth.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get of nothing: %v", err)
	}
	server := &keyring.Server{Host: "https://auth.example.org/api/app"}
	if err := s.Put(ctx, "https://auth.example.org/api/app", &keyring.Record{Token: sampleToken("a"), Server: server}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "http://localhost:8080", &keyring.Record{Token: sampleToken("b")}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Get(ctx, "AUTH.example.org")
	if err != nil || rec.Token.AccessToken != "a" || rec.Server == nil || rec.Server.Host != server.Host {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	if got := rec.Token.Headers["Authorization"]; got != "Bearer a" {
		t.Errorf("Authorization header %q, want it rebuilt as Bearer a", got)
	}
	if v := kc.items["oidc-auth-test\x00https://auth.example.org"]; strings.Contains(v, "headers") || !strings.Contains(v, `"access_token":"a"`) {
		t.Errorf("item value %s: want the record without headers", v)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[0].Key != "http://localhost:8080" || list[1].Key != "https://auth.example.org" || list[0].Backend != "keychain" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if err := s.Remove(ctx, "auth.example.org"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, "auth.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("second Remove: %v", err)
	}
	if got := kc.users("oidc-auth-test"); fmt.Sprint(got) != "[http://localhost:8080 index]" {
		t.Errorf("items left: %q", got)
	}
	list, _ = s.List(ctx)
	if len(list) != 1 {
		t.Errorf("List after Remove = %+v", list)
	}
}

func TestKeychainStoreLargeToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kc := newFakeKeychain()
	s := newKeychainStore(t, kc)
	big := bigToken(16<<10, "xyz")
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: big}); err != nil {
		t.Fatalf("Put of a 16 KiB token: %v", err)
	}
	users := kc.users("oidc-auth-test")
	if len(users) < 10 {
		t.Fatalf("items %q: want the record split into parts", users)
	}
	for _, u := range users {
		if v, _ := kc.Get("oidc-auth-test", u); len(v) > 2000 {
			t.Errorf("item %q holds %d bytes, more than 2000", u, len(v))
		}
	}
	rec, err := s.Get(ctx, "auth.example.org")
	if err != nil || rec.Token.AccessToken != big.AccessToken {
		t.Fatalf("Get after split: %v (token intact: %v)", err, err == nil && rec.Token.AccessToken == big.AccessToken)
	}

	// A second large record replaces the first; the old parts go.
	big2 := bigToken(9<<10, "pq")
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: big2}); err != nil {
		t.Fatal(err)
	}
	rec, err = s.Get(ctx, "auth.example.org")
	if err != nil || rec.Token.AccessToken != big2.AccessToken {
		t.Fatalf("Get after replacing: %v", err)
	}
	parts := len(kc.users("oidc-auth-test")) - 2 // the header item and the index
	if want := (len(mustRecordJSON(t, s, kc)) + 1999) / 2000; parts != want {
		t.Errorf("%d parts stored, want %d: old parts left behind", parts, want)
	}

	// A small record replaces it: only the item and the index remain.
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("small")}); err != nil {
		t.Fatal(err)
	}
	if got := kc.users("oidc-auth-test"); fmt.Sprint(got) != "[https://auth.example.org index]" {
		t.Errorf("items after a small Put: %q", got)
	}
}

// mustRecordJSON returns the joined value of auth.example.org's parts.
func mustRecordJSON(t *testing.T, s *keyring.KeychainStore, kc *fakeKeychain) string {
	t.Helper()
	var b strings.Builder
	for _, u := range kc.users("oidc-auth-test") {
		if strings.HasPrefix(u, "https://auth.example.org#") {
			v, _ := kc.Get("oidc-auth-test", u)
			b.WriteString(v)
		}
	}
	return b.String()
}

func TestKeychainStoreDamagedParts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		damage func(kc *fakeKeychain, parts []string)
		text   string
	}{
		{"part missing", func(kc *fakeKeychain, parts []string) { kc.Delete("oidc-auth-test", parts[2]) }, "part 3 of"},
		{"part changed", func(kc *fakeKeychain, parts []string) { kc.set("oidc-auth-test", parts[0], "tampered") }, "do not add up"},
		{"header garbled", func(kc *fakeKeychain, parts []string) {
			kc.set("oidc-auth-test", "https://auth.example.org", "oidc-auth-chunks/v1 nonsense")
		}, "malformed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kc := newFakeKeychain()
			s := newKeychainStore(t, kc)
			if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: bigToken(8<<10, "k")}); err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, u := range kc.users("oidc-auth-test") {
				if strings.Contains(u, "#") {
					parts = append(parts, u)
				}
			}
			tt.damage(kc, parts)
			_, err := s.Get(ctx, "auth.example.org")
			var ce *keyring.CorruptError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.text) || !strings.Contains(err.Error(), `keychain item "https://auth.example.org"`) {
				t.Fatalf("err = %v, want a CorruptError naming the item and %q", err, tt.text)
			}
		})
	}
}

func TestKeychainStoreForeignItem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kc := newFakeKeychain()
	kc.set("oidc-auth-test", "https://auth.example.org", "hunter2")
	s := newKeychainStore(t, kc)
	_, err := s.Get(ctx, "auth.example.org")
	var ce *keyring.CorruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "does not hold an oidc-auth token record") {
		t.Fatalf("Get: %v", err)
	}
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("a")}); !errors.As(err, &ce) {
		t.Fatalf("Put over a foreign item: %v, want a CorruptError", err)
	}
	if v, _ := kc.Get("oidc-auth-test", "https://auth.example.org"); v != "hunter2" {
		t.Errorf("the foreign item was overwritten with %q", v)
	}
}

func TestKeychainStoreUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kc := newFakeKeychain()
	kc.err = errors.New("The name org.freedesktop.secrets was not provided by any .service files")
	s := newKeychainStore(t, kc)
	_, err := s.Get(ctx, "auth.example.org")
	var ue *keyring.UnavailableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "org.freedesktop.secrets") {
		t.Fatalf("err = %v, want an UnavailableError with the cause", err)
	}
	if err := s.Probe(ctx); !errors.As(err, &ue) {
		t.Errorf("Probe: %v", err)
	}
}

func TestKeychainStoreSilentIsBounded(t *testing.T) {
	t.Parallel()
	kc := newFakeKeychain()
	kc.block = make(chan struct{})
	defer close(kc.block)
	s := newKeychainStore(t, kc)
	s.Timeout = 150 * time.Millisecond
	start := time.Now()
	_, err := s.Get(context.Background(), "auth.example.org")
	var ue *keyring.UnavailableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "did not answer within 150ms") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v, want about the 150ms bound", d)
	}
}

// autoStore is an AutoStore over a fake keychain and a file in a temp dir.
func autoStore(t *testing.T, kc keyring.Keychain, warn *strings.Builder) *keyring.AutoStore {
	dir := t.TempDir()
	file := &keyring.FileStore{Path: filepath.Join(dir, "token-store.json"), Now: func() time.Time { return storeNow }}
	ks := newKeychainStore(t, kc)
	ks.Timeout = 150 * time.Millisecond
	return &keyring.AutoStore{Keychain: ks, File: file, Warn: warn}
}

func TestAutoStoreFallsBackWithOneWarning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kc := newFakeKeychain()
	kc.err = errors.New("dbus: DBUS_SESSION_BUS_ADDRESS not set")
	var warn strings.Builder
	s := autoStore(t, kc, &warn)
	if _, err := s.Get(ctx, "a.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get: %v", err)
	}
	for _, k := range []string{"a.example.org", "b.example.org", "a.example.org"} {
		if err := s.Put(ctx, k, &keyring.Record{Token: sampleToken(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(warn.String(), "\n"); n != 1 {
		t.Fatalf("%d warning lines, want 1:\n%s", n, warn.String())
	}
	for _, want := range []string{"DBUS_SESSION_BUS_ADDRESS not set", s.File.Path, "OIDC_AUTH_STORE=file"} {
		if !strings.Contains(warn.String(), want) {
			t.Errorf("warning %q lacks %q", warn.String(), want)
		}
	}
	rec, err := s.Get(ctx, "a.example.org")
	if err != nil || rec.Token.AccessToken != "a.example.org" {
		t.Fatalf("Get from the file: %+v, %v", rec, err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[0].Backend != "file" {
		t.Errorf("List = %+v, %v", list, err)
	}
	if n := kc.callCount(); n != 1 {
		t.Errorf("%d keychain calls; after the first failure the keychain is not asked again", n)
	}
}

func TestAutoStoreSilentKeychainIsRememberedAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kc := newFakeKeychain()
	kc.block = make(chan struct{})
	defer close(kc.block)
	var warn strings.Builder
	s := autoStore(t, kc, &warn)
	start := time.Now()
	if err := s.Put(ctx, "a.example.org", &keyring.Record{Token: sampleToken("a")}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("fallback took %v, want about the 150ms bound", d)
	}
	if !strings.Contains(warn.String(), "did not answer within 150ms") {
		t.Errorf("warning %q", warn.String())
	}
	// A new store over the same files (the next process) does not wait again.
	next := &keyring.AutoStore{Keychain: s.Keychain, File: s.File}
	calls := kc.callCount()
	start = time.Now()
	rec, err := next.Get(ctx, "a.example.org")
	if err != nil || rec.Token.AccessToken != "a" {
		t.Fatalf("Get: %+v, %v", rec, err)
	}
	if n := kc.callCount(); n != calls || time.Since(start) > 100*time.Millisecond {
		t.Errorf("the next process asked the silent keychain again (%d calls, %v)", n-calls, time.Since(start))
	}
}

func TestAutoStorePrefersKeychainAndMovesFileEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kc := newFakeKeychain()
	var warn strings.Builder
	s := autoStore(t, kc, &warn)
	// A login stored in the file while there was no keychain.
	if err := s.File.Put(ctx, "a.example.org", &keyring.Record{Token: sampleToken("old")}); err != nil {
		t.Fatal(err)
	}
	if err := s.File.Put(ctx, "b.example.org", &keyring.Record{Token: sampleToken("b")}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Get(ctx, "a.example.org")
	if err != nil || rec.Token.AccessToken != "old" {
		t.Fatalf("Get of a file entry: %+v, %v", rec, err)
	}
	if err := s.Put(ctx, "a.example.org", &keyring.Record{Token: sampleToken("new")}); err != nil {
		t.Fatal(err)
	}
	if warn.Len() != 0 {
		t.Errorf("warned with a working keychain: %s", warn.String())
	}
	if _, err := s.File.Get(ctx, "a.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("the file still holds a.example.org: %v", err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if list[0].Key != "https://a.example.org" || list[0].Backend != "keychain" || list[0].Token.AccessToken != "new" ||
		list[1].Key != "https://b.example.org" || list[1].Backend != "file" {
		t.Errorf("List = %+v", list)
	}
	if err := s.Remove(ctx, "b.example.org"); err != nil {
		t.Errorf("Remove of a file entry: %v", err)
	}
	if err := s.Remove(ctx, "c.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("Remove of nothing: %v", err)
	}
}

func TestOpenForcedKeychain(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv(keyring.StoreEnv, "")
	t.Setenv(keyring.TokenFileEnv, "")
	kc := newFakeKeychain()
	kc.err = errors.New("no D-Bus")
	s, err := keyring.Open(keyring.Options{Backend: "keychain", Keychain: kc})
	if err != nil {
		t.Fatal(err)
	}
	var ue *keyring.UnavailableError
	if _, err := s.Get(context.Background(), "a.example.org"); !errors.As(err, &ue) {
		t.Fatalf("a forced keychain that is not there: %v, want an UnavailableError, not a fallback", err)
	}
	if err := s.Put(context.Background(), "a.example.org", &keyring.Record{Token: sampleToken("a")}); !errors.As(err, &ue) {
		t.Fatalf("Put: %v", err)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("XDG_CACHE_HOME"), "oidc-auth", "token-store.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a forced keychain wrote the file: %v", err)
	}

	t.Setenv(keyring.TokenFileEnv, filepath.Join(t.TempDir(), "t.json"))
	if _, err := keyring.Open(keyring.Options{Backend: "keychain"}); err == nil || !strings.Contains(err.Error(), "OIDC_TOKEN_FILE is set") {
		t.Errorf("keychain with OIDC_TOKEN_FILE: %v", err)
	}
	if _, err := keyring.Open(keyring.Options{Backend: "vault"}); err == nil || !strings.Contains(err.Error(), `"vault" is not a store`) {
		t.Errorf("unknown backend: %v", err)
	}
	t.Setenv(keyring.StoreEnv, "floppy")
	if _, err := keyring.Open(keyring.Options{}); err == nil || !strings.Contains(err.Error(), "OIDC_AUTH_STORE") {
		t.Errorf("unknown OIDC_AUTH_STORE: %v", err)
	}
}

func TestKeychainStoreRefreshLeavesIndexAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kc := newFakeKeychain()
	s := newKeychainStore(t, kc)
	for _, access := range []string{"a", "b", "c"} {
		if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken(access)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := kc.sets["index"]; n != 1 {
		t.Errorf("the index was written %d times for one key, want once", n)
	}
	if err := s.Put(ctx, "other.example.org", &keyring.Record{Token: sampleToken("o")}); err != nil {
		t.Fatal(err)
	}
	if n := kc.sets["index"]; n != 2 {
		t.Errorf("the index was written %d times for two keys, want twice", n)
	}
}
