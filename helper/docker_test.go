package helper_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// dockerFixture is a Docker helper with one configured registry whose
// server holds a valid token, over a file store that records its writes.
type dockerFixture struct {
	d     helper.Docker
	fs    *keyring.FileStore
	store *recordingStore
	host  string // the configured server
}

func newDockerFixture(t *testing.T) *dockerFixture {
	t.Helper()
	host := tripwire(t)
	cfg := mustParseConfig(t, serverEntry("registry.example.org", host, `username = "robot"`)+
		serverEntry("https://git.example.org/team/", host))
	fs := newStore(t)
	putToken(t, fs, host, "tok-R", nil)
	store := &recordingStore{TokenStore: fs}
	return &dockerFixture{
		d:     helper.Docker{Helper: &helper.Helper{Config: cfg, Store: store, Name: "docker-credential-oidc"}},
		fs:    fs,
		store: store,
		host:  host,
	}
}

func TestDockerGetConfigured(t *testing.T) {
	t.Parallel()
	f := newDockerFixture(t)
	tests := []struct {
		name      string
		serverURL string
		found     bool
	}{
		{"bare host", "registry.example.org", true},
		{"https", "https://registry.example.org", true},
		{"v1 path", "https://registry.example.org/v1/", true},
		{"v2 path without scheme", "registry.example.org/v2/", true},
		{"upper case with default port", "HTTPS://Registry.Example.ORG:443/v1/", true},
		{"surrounding space", " registry.example.org\n", true},
		{"http", "http://registry.example.org", false},
		{"other port", "registry.example.org:5000", false},
		{"suffix", "registry.example.org.evil.com", false},
		{"userinfo", "https://registry.example.org@evil.com", false},
		{"other scheme", "ftp://registry.example.org", false},
		{"empty", "", false},
		{"space in host", "registry example.org", false},
		{"look-alike", "r\u0435gistry.example.org", false},
		{"scheme only", "https://", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			user, secret, err := f.d.Get(tt.serverURL)
			if !tt.found {
				if !credentials.IsErrCredentialsNotFound(err) || user != "" || secret != "" {
					t.Errorf("Get(%q) = %q, %q, %v; want not found", tt.serverURL, user, secret, err)
				}
				return
			}
			if err != nil || user != "robot" || secret != "tok-R" {
				t.Errorf("Get(%q) = %q, %q, %v; want robot, tok-R", tt.serverURL, user, secret, err)
			}
		})
	}
}

// TestDockerProtocol drives the helper through docker-credential-helpers'
// own protocol functions and checks the bytes docker reads.
func TestDockerProtocol(t *testing.T) {
	t.Parallel()
	f := newDockerFixture(t)
	var out bytes.Buffer
	if err := credentials.Get(f.d, strings.NewReader("https://registry.example.org/v1/\n"), &out); err != nil {
		t.Fatal(err)
	}
	if want := `{"ServerURL":"https://registry.example.org/v1/","Username":"robot","Secret":"tok-R"}` + "\n"; out.String() != want {
		t.Errorf("get output %q, want %q", out.String(), want)
	}
	out.Reset()
	err := credentials.Get(f.d, strings.NewReader("other.example.org\n"), &out)
	if err == nil || err.Error() != "credentials not found in native keychain" || out.Len() != 0 {
		t.Errorf("get of an unknown registry: %v, output %q", err, out.String())
	}
	out.Reset()
	if err := credentials.List(f.d, &out); err != nil {
		t.Fatal(err)
	}
	if want := `{"registry.example.org":"robot"}` + "\n"; out.String() != want {
		t.Errorf("list output %q, want %q", out.String(), want)
	}
}

func TestDockerConfiguredAddDelete(t *testing.T) {
	t.Parallel()
	f := newDockerFixture(t)
	before := readFile(t, f.fs.Path)
	for _, u := range []string{"registry.example.org", "https://registry.example.org", "https://registry.example.org/v1/"} {
		if err := f.d.Add(&credentials.Credentials{ServerURL: u, Username: "someone", Secret: "pw"}); err != nil {
			t.Errorf("Add(%q): %v", u, err)
		}
		if err := f.d.Delete(u); err != nil {
			t.Errorf("Delete(%q): %v", u, err)
		}
	}
	if puts, removes := f.store.writes(); len(puts)+len(removes) > 0 {
		t.Errorf("store writes: put %v, remove %v", puts, removes)
	}
	if after := readFile(t, f.fs.Path); !bytes.Equal(before, after) {
		t.Errorf("store changed:\n%s\n->\n%s", before, after)
	}
	if user, secret, err := f.d.Get("registry.example.org"); err != nil || user != "robot" || secret != "tok-R" {
		t.Errorf("Get after Add and Delete = %q, %q, %v; want robot, tok-R", user, secret, err)
	}
}

func TestDockerPlainRoundTrip(t *testing.T) {
	t.Parallel()
	f := newDockerFixture(t)
	ctx := context.Background()
	if err := f.d.Add(&credentials.Credentials{ServerURL: "https://other.example.org", Username: "jane", Secret: "s3cret"}); err != nil {
		t.Fatalf("Add: %v", err)
	}
	for _, u := range []string{"https://other.example.org", "other.example.org", "https://OTHER.example.org/v1/"} {
		if user, secret, err := f.d.Get(u); err != nil || user != "jane" || secret != "s3cret" {
			t.Errorf("Get(%q) = %q, %q, %v; want jane, s3cret", u, user, secret, err)
		}
	}
	for _, u := range []string{"other.example.org:5000", "other.example.org.evil.com", "evil.com"} {
		if _, _, err := f.d.Get(u); !credentials.IsErrCredentialsNotFound(err) {
			t.Errorf("Get(%q): %v, want not found", u, err)
		}
	}
	got, err := f.d.List()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"https://other.example.org": "jane", "registry.example.org": "robot"}; !reflect.DeepEqual(got, want) {
		t.Errorf("List = %v, want %v", got, want)
	}
	entries, err := f.fs.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var docker []string
	for _, e := range entries {
		if helper.IsDockerKey(e.Key) {
			docker = append(docker, e.Key)
		}
	}
	if len(docker) != 1 || len(entries) != 2 {
		t.Errorf("store keys %v, want the server's and one docker key", entries)
	}

	if err := f.d.Delete("other.example.org"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, _, err := f.d.Get("https://other.example.org"); !credentials.IsErrCredentialsNotFound(err) {
		t.Errorf("Get after Delete: %v, want not found", err)
	}
	if err := f.d.Delete("https://other.example.org"); !credentials.IsErrCredentialsNotFound(err) {
		t.Errorf("second Delete: %v, want not found", err)
	}
	got, err = f.d.List()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"registry.example.org": "robot"}; !reflect.DeepEqual(got, want) {
		t.Errorf("List after Delete = %v, want %v", got, want)
	}
	if user, secret, err := f.d.Get("registry.example.org"); err != nil || user != "robot" || secret != "tok-R" {
		t.Errorf("configured registry after the round trip: %q, %q, %v", user, secret, err)
	}
}

// TestDockerPlainBesideLogin checks that plain registry credentials and a
// server's token for the same host live under different keys.
func TestDockerPlainBesideLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs := newStore(t)
	// A login to a server on the registry's host, below a path, so that it
	// does not answer for the registry itself.
	login := &keyring.Server{Host: "https://hub.example.org/auth"}
	putToken(t, fs, login.Host, "tok-S", login)
	key, _ := keyring.Key(login.Host)
	serverBefore, err := fs.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	d := helper.Docker{Helper: &helper.Helper{Config: &helper.Config{}, Store: fs}}
	if _, _, err := d.Get("hub.example.org"); !credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("Get before Add: %v, want not found", err)
	}
	if err := d.Add(&credentials.Credentials{ServerURL: "hub.example.org", Username: "jane", Secret: "pw"}); err != nil {
		t.Fatal(err)
	}
	if user, secret, err := d.Get("https://hub.example.org"); err != nil || user != "jane" || secret != "pw" {
		t.Errorf("Get = %q, %q, %v; want jane, pw", user, secret, err)
	}
	entries, err := fs.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, e := range entries {
		keys[e.Key] = helper.IsDockerKey(e.Key)
	}
	if len(keys) != 2 || keys[key] || !keys["docker://hub.example.org"] {
		t.Errorf("store keys %v, want %s and docker://hub.example.org", keys, key)
	}
	serverAfter, err := fs.Get(ctx, key)
	if err != nil || !reflect.DeepEqual(serverAfter.Token, serverBefore.Token) || !reflect.DeepEqual(serverAfter.Server, serverBefore.Server) {
		t.Errorf("server record after Add: %+v, %v; want %+v", serverAfter, err, serverBefore)
	}
	list, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"hub.example.org": "jane"}; !reflect.DeepEqual(list, want) {
		t.Errorf("List = %v, want %v (no server tokens)", list, want)
	}
	if err := d.Delete("hub.example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Get(ctx, key); err != nil {
		t.Errorf("the login is gone after docker logout: %v", err)
	}
}

// TestDockerLoginHost checks that a login to host H answers docker for H
// with its token, and that Add and Delete leave it alone.
func TestDockerLoginHost(t *testing.T) {
	t.Parallel()
	fs := newStore(t)
	putToken(t, fs, "https://hub.example.org", "tok-H", &keyring.Server{Host: "https://hub.example.org", Username: "jane"})
	before := readFile(t, fs.Path)
	d := helper.Docker{Helper: &helper.Helper{Config: &helper.Config{}, Store: fs}}
	if user, secret, err := d.Get("hub.example.org"); err != nil || user != "jane" || secret != "tok-H" {
		t.Errorf("Get = %q, %q, %v; want jane, tok-H", user, secret, err)
	}
	if err := d.Add(&credentials.Credentials{ServerURL: "hub.example.org", Username: "x", Secret: "y"}); err != nil {
		t.Error(err)
	}
	if err := d.Delete("hub.example.org"); err != nil {
		t.Error(err)
	}
	if after := readFile(t, fs.Path); !bytes.Equal(before, after) {
		t.Errorf("store changed:\n%s\n->\n%s", before, after)
	}
}

func TestDockerErrors(t *testing.T) {
	t.Parallel()
	t.Run("add of an unparsable address", func(t *testing.T) {
		t.Parallel()
		f := newDockerFixture(t)
		for _, u := range []string{"", "ftp://x", "a b", "https://"} {
			if err := f.d.Add(&credentials.Credentials{ServerURL: u, Username: "u", Secret: "s"}); err == nil {
				t.Errorf("Add(%q): nil error", u)
			}
		}
		if puts, _ := f.store.writes(); len(puts) > 0 {
			t.Errorf("store writes %v", puts)
		}
	})
	t.Run("delete of an unparsable address", func(t *testing.T) {
		t.Parallel()
		f := newDockerFixture(t)
		if err := f.d.Delete("ftp://x"); !credentials.IsErrCredentialsNotFound(err) {
			t.Errorf("Delete: %v, want not found", err)
		}
	})
	t.Run("configured registry without login", func(t *testing.T) {
		t.Parallel()
		host := tripwire(t)
		cfg := mustParseConfig(t, serverEntry("registry.example.org", host))
		d := helper.Docker{Helper: &helper.Helper{Config: cfg, Store: newStore(t)}}
		_, _, err := d.Get("registry.example.org")
		if err == nil || credentials.IsErrCredentialsNotFound(err) || !strings.Contains(err.Error(), "run `oidc-auth login "+host+"`") {
			t.Errorf("Get: %v, want an error that says to run oidc-auth login %s", err, host)
		}
	})
	t.Run("broken store", func(t *testing.T) {
		t.Parallel()
		broken := errors.New("keyring: the token file is corrupt")
		d := helper.Docker{Helper: &helper.Helper{Config: &helper.Config{}, Store: &brokenStore{err: broken}}}
		if _, _, err := d.Get("other.example.org"); !errors.Is(err, broken) {
			t.Errorf("Get: %v, want %v", err, broken)
		}
		if _, err := d.List(); !errors.Is(err, broken) {
			t.Errorf("List: %v, want %v", err, broken)
		}
	})
}

func TestIsDockerKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		want bool
	}{
		{"docker://registry.example.org", true},
		{"docker://127.0.0.1:5000", true},
		{"https://registry.example.org", false},
		{"http://docker://x", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			if got := helper.IsDockerKey(tt.key); got != tt.want {
				t.Errorf("IsDockerKey(%q) = %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}
