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
	// The login to the server's host answers for that host too (see
	// TestDockerList).
	if want := `{"` + f.host + `":"oauth2","registry.example.org":"robot"}` + "\n"; out.String() != want {
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
	if want := map[string]string{"https://other.example.org": "jane", "registry.example.org": "robot", f.host: "oauth2"}; !reflect.DeepEqual(got, want) {
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
	if err := f.d.Delete("https://other.example.org"); err != nil {
		t.Errorf("second Delete: %v, want nil: erasing nothing succeeds", err)
	}
	got, err = f.d.List()
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"registry.example.org": "robot", f.host: "oauth2"}; !reflect.DeepEqual(got, want) {
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
		if err := f.d.Delete("ftp://x"); err != nil {
			t.Errorf("Delete: %v, want nil: nothing is stored under it", err)
		}
	})
	t.Run("configured registry without login", func(t *testing.T) {
		t.Parallel()
		host := tripwire(t)
		cfg := mustParseConfig(t, serverEntry("registry.example.org", host))
		d := helper.Docker{Helper: &helper.Helper{Config: cfg, Store: newStore(t)}}
		_, _, err := d.Get("registry.example.org")
		if err == nil || credentials.IsErrCredentialsNotFound(err) || !strings.Contains(err.Error(), "run: oidc-auth login "+host) {
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

// TestDockerEraseNothing checks that erasing a registry with nothing
// stored succeeds without output: podman and skopeo logout fail (exit 125,
// or a crash) and crane, oras and helm exit 1 when the helper reports
// "not found" instead.
func TestDockerEraseNothing(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, serverURL string }{
		{"unknown registry", "other.example.org"},
		{"unknown registry with scheme", "https://other.example.org/v1/"},
		{"configured registry", "registry.example.org"},
		{"Docker Hub", "docker.io"},
		{"Docker Hub server URL", hubServerURL},
		{"not a registry address", "ftp://other.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newDockerFixture(t)
			before := readFile(t, f.fs.Path)
			if err := f.d.Delete(tt.serverURL); err != nil {
				t.Errorf("Delete(%q) = %v, want nil", tt.serverURL, err)
			}
			var out bytes.Buffer
			if err := credentials.HandleCommand(f.d, "erase", strings.NewReader(tt.serverURL+"\n"), &out); err != nil || out.Len() != 0 {
				t.Errorf("erase %q: %v, output %q; want success and no output", tt.serverURL, err, out.String())
			}
			if after := readFile(t, f.fs.Path); !bytes.Equal(before, after) {
				t.Errorf("store changed:\n%s\n->\n%s", before, after)
			}
		})
	}
}

// hubServerURL is Docker Hub's server URL as docker sends it, spelled
// out rather than taken from the package.
const hubServerURL = "https://index.docker.io/v1/"

// TestDockerNoLoginMessage checks the line docker's tools show when a
// configured registry has no usable login: the command to run without
// backticks (the tools put the helper's message in backticks themselves),
// and the same line on the helper's log (stderr), for tools that drop the
// helper's stdout (regctl).
func TestDockerNoLoginMessage(t *testing.T) {
	t.Parallel()
	host := tripwire(t)
	cfg := mustParseConfig(t, serverEntry("registry.example.org", host))
	var log syncBuffer
	d := helper.Docker{Helper: &helper.Helper{Config: cfg, Store: newStore(t), Log: &log, Name: "docker-credential-oidc"}}
	_, _, err := d.Get("registry.example.org")
	if err == nil || credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("Get: %v, want a login error", err)
	}
	msg := err.Error()
	if want := "no valid login for " + host + " ("; !strings.HasPrefix(msg, want) {
		t.Errorf("message %q, want it to start with %q", msg, want)
	}
	if want := "; run: oidc-auth login " + host; !strings.HasSuffix(msg, want) {
		t.Errorf("message %q, want it to end with %q", msg, want)
	}
	if strings.ContainsAny(msg, "`\n") {
		t.Errorf("message %q has a backtick or a newline", msg)
	}
	if want := "docker-credential-oidc: " + msg + "\n"; log.String() != want {
		t.Errorf("log %q, want %q", log.String(), want)
	}
	var out bytes.Buffer
	if err := credentials.HandleCommand(d, "get", strings.NewReader("registry.example.org\n"), &out); err == nil || err.Error() != msg {
		t.Errorf("get through the protocol: %v, want %q", err, msg)
	}
}

// TestDockerList checks that List names every registry Get answers, with
// the username Get hands out and never a secret, and no registry Get does
// not answer: config entries with a scheme, logins to a registry's host,
// Docker Hub under docker's name for it, plain credentials.
func TestDockerList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		config  string
		logins  []keyring.Server // stored logins with a valid token
		plain   []credentials.Credentials
		want    map[string]string
		answers map[string]bool // further server URLs Get must (true) or must not (false) answer
	}{
		{
			name:   "bare host",
			config: serverEntry("registry.example.org", "AUTH"),
			want:   map[string]string{"registry.example.org": "oauth2"},
		},
		{
			name:   "https URL",
			config: serverEntry("https://Registry.Example.org/", "AUTH", `username = "robot"`),
			want:   map[string]string{"registry.example.org": "robot"},
		},
		{
			name:   "https URL with default port",
			config: serverEntry("https://registry.example.org:443", "AUTH"),
			want:   map[string]string{"registry.example.org": "oauth2"},
		},
		{
			name:   "http on loopback",
			config: serverEntry("http://127.0.0.1:5000", "AUTH"),
			want:   map[string]string{"127.0.0.1:5000": "oauth2"},
		},
		{
			name:    "http allowed elsewhere",
			config:  serverEntry("http://registry.example.org", "AUTH", "allow_http = true"),
			want:    map[string]string{"http://registry.example.org": "oauth2"},
			answers: map[string]bool{"registry.example.org": false},
		},
		{
			name:    "entry with a path",
			config:  serverEntry("https://git.example.org/team/", "AUTH"),
			want:    map[string]string{},
			answers: map[string]bool{"git.example.org": false},
		},
		{
			name:   "login to a registry's host",
			logins: []keyring.Server{{Host: "https://hub.example.org", Username: "jane"}},
			want:   map[string]string{"hub.example.org": "jane"},
		},
		{
			name:   "login to a loopback http host",
			logins: []keyring.Server{{Host: "http://127.0.0.1:5001"}},
			want:   map[string]string{"http://127.0.0.1:5001": "oauth2"},
		},
		{
			name:    "login below a path",
			logins:  []keyring.Server{{Host: "https://hub.example.org/api/app"}},
			want:    map[string]string{},
			answers: map[string]bool{"hub.example.org": false},
		},
		{
			name:   "config before login",
			config: serverEntry("hub.example.org", "AUTH", `username = "robot"`),
			logins: []keyring.Server{{Host: "https://hub.example.org", Username: "jane"}},
			want:   map[string]string{"hub.example.org": "robot"},
		},
		{
			name:   "Docker Hub entry",
			config: serverEntry("docker.io", "AUTH"),
			want:   map[string]string{hubServerURL: "oauth2"},
		},
		{
			name:   "Docker Hub server URL entry",
			config: serverEntry(hubServerURL, "AUTH"),
			want:   map[string]string{hubServerURL: "oauth2"},
		},
		{
			name:  "plain credentials",
			plain: []credentials.Credentials{{ServerURL: "other.example.org", Username: "jane", Secret: "pw"}, {ServerURL: "docker.io", Username: "bob", Secret: "pw2"}},
			want:  map[string]string{"other.example.org": "jane", hubServerURL: "bob"},
		},
		{
			name:   "everything",
			config: serverEntry("https://registry.example.org/", "AUTH") + serverEntry("https://git.example.org/team/", "AUTH"),
			logins: []keyring.Server{{Host: "https://hub.example.org", Username: "jane"}},
			plain:  []credentials.Credentials{{ServerURL: "https://other.example.org", Username: "bob", Secret: "pw"}},
			want:   map[string]string{"registry.example.org": "oauth2", "hub.example.org": "jane", "https://other.example.org": "bob"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The config's server stores its token below a path, so that its
			// login answers for no host of its own.
			auth := tripwire(t) + "/api"
			fs := newStore(t)
			putToken(t, fs, auth, "tok-A", &keyring.Server{Host: auth})
			secrets := map[string]bool{"tok-A": true, "refresh-tok-A": true}
			for i, s := range tt.logins {
				access := "tok-L" + string(rune('0'+i))
				putToken(t, fs, s.Host, access, &s)
				secrets[access], secrets["refresh-"+access] = true, true
			}
			cfg := mustParseConfig(t, strings.ReplaceAll(tt.config, "AUTH", auth))
			d := helper.Docker{Helper: &helper.Helper{Config: cfg, Store: fs}}
			for _, c := range tt.plain {
				if err := d.Add(&c); err != nil {
					t.Fatal(err)
				}
				secrets[c.Secret] = true
			}
			got, err := d.List()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("List = %v, want %v", got, tt.want)
			}
			for server, user := range got {
				if secrets[server] || secrets[user] {
					t.Errorf("List holds a secret: %q: %q", server, user)
				}
				u, _, err := d.Get(server)
				if err != nil || u != user {
					t.Errorf("Get(%q) = %q, %v; List says %q", server, u, err, user)
				}
			}
			for server, want := range tt.answers {
				_, _, err := d.Get(server)
				if got := err == nil; got != want {
					t.Errorf("Get(%q): %v, want answered %v", server, err, want)
				}
			}
		})
	}
}

// TestDockerHubNames checks that Docker Hub's names are one registry:
// credentials stored under one are found, replaced and erased under every
// other, and a config entry naming any of them answers all.
func TestDockerHubNames(t *testing.T) {
	t.Parallel()
	names := []string{"docker.io", "index.docker.io", "registry-1.docker.io", hubServerURL, "https://docker.io", "https://registry-1.docker.io/v2/", "Docker.IO"}
	notHub := []string{"docker.io:5000", "evil-docker.io", "docker.io.evil.com", "hub.docker.com", "http://docker.io"}

	t.Run("plain credentials", func(t *testing.T) {
		t.Parallel()
		for _, stored := range names {
			for _, erased := range names {
				fs := newStore(t)
				d := helper.Docker{Helper: &helper.Helper{Config: &helper.Config{}, Store: fs}}
				if err := d.Add(&credentials.Credentials{ServerURL: stored, Username: "jane", Secret: "pw"}); err != nil {
					t.Fatal(err)
				}
				for _, asked := range names {
					if u, s, err := d.Get(asked); err != nil || u != "jane" || s != "pw" {
						t.Errorf("stored as %q, Get(%q) = %q, %q, %v; want jane, pw", stored, asked, u, s, err)
					}
				}
				for _, other := range notHub {
					if _, _, err := d.Get(other); !credentials.IsErrCredentialsNotFound(err) {
						t.Errorf("stored as %q, Get(%q): %v, want not found", stored, other, err)
					}
				}
				if got, err := d.List(); err != nil || !reflect.DeepEqual(got, map[string]string{hubServerURL: "jane"}) {
					t.Errorf("stored as %q, List = %v, %v", stored, got, err)
				}
				if err := d.Delete(erased); err != nil {
					t.Errorf("Delete(%q): %v", erased, err)
				}
				for _, asked := range names {
					if _, _, err := d.Get(asked); !credentials.IsErrCredentialsNotFound(err) {
						t.Errorf("stored as %q, erased as %q: Get(%q): %v, want not found", stored, erased, asked, err)
					}
				}
				if got, err := d.List(); err != nil || len(got) != 0 {
					t.Errorf("stored as %q, erased as %q: List = %v, %v; want empty", stored, erased, got, err)
				}
			}
		}
	})

	t.Run("one record", func(t *testing.T) {
		t.Parallel()
		fs := newStore(t)
		d := helper.Docker{Helper: &helper.Helper{Config: &helper.Config{}, Store: fs}}
		// docker login, then skopeo login: the second replaces the first.
		for _, c := range []credentials.Credentials{
			{ServerURL: hubServerURL, Username: "jane", Secret: "pw1"},
			{ServerURL: "docker.io", Username: "bob", Secret: "pw2"},
		} {
			if err := d.Add(&c); err != nil {
				t.Fatal(err)
			}
		}
		entries, err := fs.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Key != "docker://index.docker.io" {
			t.Errorf("store entries %+v, want one, docker://index.docker.io", entries)
		}
		if u, s, err := d.Get(hubServerURL); err != nil || u != "bob" || s != "pw2" {
			t.Errorf("Get = %q, %q, %v; want the last login", u, s, err)
		}
	})

	t.Run("record under another name", func(t *testing.T) {
		t.Parallel()
		// Stored before the names were one registry, by a tool that asks
		// for docker.io.
		fs := newStore(t)
		if err := fs.Put(context.Background(), "docker://docker.io", &keyring.Record{
			Token:  keyring.Token{AccessToken: "pw", TokenType: "docker", Expires: 253402300799},
			Server: &keyring.Server{Host: "docker.io", Username: "jane"},
		}); err != nil {
			t.Fatal(err)
		}
		d := helper.Docker{Helper: &helper.Helper{Config: &helper.Config{}, Store: fs}}
		if u, s, err := d.Get(hubServerURL); err != nil || u != "jane" || s != "pw" {
			t.Errorf("Get = %q, %q, %v; want jane, pw", u, s, err)
		}
		if got, err := d.List(); err != nil || !reflect.DeepEqual(got, map[string]string{hubServerURL: "jane"}) {
			t.Errorf("List = %v, %v", got, err)
		}
		if err := d.Delete("index.docker.io"); err != nil {
			t.Fatal(err)
		}
		if entries, err := fs.List(context.Background()); err != nil || len(entries) != 0 {
			t.Errorf("store after Delete: %+v, %v; want empty", entries, err)
		}
	})

	t.Run("config entries", func(t *testing.T) {
		t.Parallel()
		for _, match := range []string{"docker.io", "index.docker.io", "registry-1.docker.io", hubServerURL, "https://docker.io/"} {
			auth := tripwire(t)
			fs := newStore(t)
			putToken(t, fs, auth, "tok-H", nil)
			d := helper.Docker{Helper: &helper.Helper{Config: mustParseConfig(t, serverEntry(match, auth)), Store: fs}}
			for _, asked := range names {
				if u, s, err := d.Get(asked); err != nil || u != "oauth2" || s != "tok-H" {
					t.Errorf("entry %q: Get(%q) = %q, %q, %v; want the token", match, asked, u, s, err)
				}
			}
			for _, other := range notHub {
				if _, _, err := d.Get(other); !credentials.IsErrCredentialsNotFound(err) {
					t.Errorf("entry %q: Get(%q): %v, want not found", match, other, err)
				}
			}
			// docker login of Docker Hub keeps nothing: the token is minted.
			if err := d.Add(&credentials.Credentials{ServerURL: "docker.io", Username: "x", Secret: "y"}); err != nil {
				t.Fatal(err)
			}
			if entries, _ := fs.List(context.Background()); len(entries) != 1 {
				t.Errorf("entry %q: store %+v after Add, want only the login", match, entries)
			}
		}
	})
}
