package oidcauth

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// dateServer answers every request with 200 and a Date header shifted by
// skew, and counts the requests and any Authorization header.
func dateServer(t *testing.T, skew time.Duration) (srv *httptest.Server, requests, withAuth *atomic.Int32) {
	t.Helper()
	requests, withAuth = &atomic.Int32{}, &atomic.Int32{}
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("Authorization") != "" || r.Method != http.MethodGet || r.ContentLength > 0 {
			withAuth.Add(1)
		}
		w.Header().Set("Date", time.Now().Add(skew).UTC().Format(http.TimeFormat))
	}))
	t.Cleanup(srv.Close)
	return srv, requests, withAuth
}

func TestCheckServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	good, goodN, goodAuth := dateServer(t, 0)
	skewed, _, _ := dateServer(t, -10*time.Minute)
	ahead, _, _ := dateServer(t, 3*time.Hour)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close()

	levels := func(cs []check) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Level)
		}
		return strings.Join(out, " ")
	}
	cs := checkServer(ctx, doctorServer{name: good.URL, url: good.URL + "/api/app"})
	if levels(cs) != "ok ok" || !strings.Contains(cs[0].Detail, "is reachable (it answered HTTP 200") || !strings.Contains(cs[1].Detail, "agrees") {
		t.Errorf("a good server: %+v", cs)
	}
	if goodN.Load() != 1 || goodAuth.Load() != 0 {
		t.Errorf("a good server got %d requests, %d not a plain GET", goodN.Load(), goodAuth.Load())
	}
	cs = checkServer(ctx, doctorServer{name: skewed.URL, url: skewed.URL})
	if levels(cs) != "ok warning" || !strings.Contains(cs[1].Detail, "is 10m ahead of "+skewed.URL) || cs[1].Fix == "" {
		t.Errorf("a server 10 minutes behind: %+v", cs)
	}
	cs = checkServer(ctx, doctorServer{name: ahead.URL, url: ahead.URL})
	if levels(cs) != "ok warning" || !strings.Contains(cs[1].Detail, "is 3h behind") {
		t.Errorf("a server 3 hours ahead: %+v", cs)
	}
	cs = checkServer(ctx, doctorServer{name: down, url: down})
	if levels(cs) != "error" || !strings.Contains(cs[0].Detail, "cannot reach "+down) || !strings.Contains(cs[0].Fix, "curl") {
		t.Errorf("a server that is down: %+v", cs)
	}
	// Not contacted at all: .invalid never resolves, and the check must
	// not even try.
	cs = checkServer(ctx, doctorServer{name: "http://auth.example.invalid", url: "http://auth.example.invalid/api"})
	if levels(cs) != "error" || !strings.Contains(cs[0].Detail, "clear text") || !strings.Contains(cs[0].Detail, "--allow-http") {
		t.Errorf("a plain-http server elsewhere: %+v", cs)
	}
	cs = checkServer(ctx, doctorServer{name: "http://auth.example.invalid", url: "http://auth.example.invalid/api", allowHTTP: true})
	if levels(cs) != "warning" || !strings.Contains(cs[0].Detail, "not contacted") {
		t.Errorf("a plain-http server elsewhere, allowed: %+v", cs)
	}
}

func TestCheckServerBounded(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hang); srv.Close() })
	start := time.Now()
	cs := checkServer(context.Background(), doctorServer{name: srv.URL, url: srv.URL})
	if took := time.Since(start); took < doctorTimeout || took > doctorTimeout+2*time.Second {
		t.Errorf("a silent server took %v, want about %v", took, doctorTimeout)
	}
	if len(cs) != 1 || cs[0].Level != levelError || !strings.Contains(cs[0].Detail, "no answer within 5s") {
		t.Errorf("a silent server: %+v", cs)
	}
}

func TestWriteChecks(t *testing.T) {
	t.Parallel()
	checks := []check{
		okCheck("a", "all good"),
		warnCheck("b", "", "a warning"),
		failCheck("c", "oidc-auth login https://h", "broken \x1b[2Jscreen"),
	}
	var plain, colour bytes.Buffer
	writeChecks(&plain, checks, false)
	want := "✓ all good\n! a warning\n✗ " + flows.TerminalSafe("broken \x1b[2Jscreen") + " — fix: `oidc-auth login https://h`\n"
	if plain.String() != want || strings.Contains(plain.String(), "\x1b") {
		t.Errorf("plain:\n%q\nwant\n%q", plain.String(), want)
	}
	writeChecks(&colour, checks, true)
	if !strings.HasPrefix(colour.String(), "\x1b[32m✓\x1b[0m all good\n") || !strings.Contains(colour.String(), "\x1b[31m✗\x1b[0m broken") {
		t.Errorf("colour:\n%q", colour.String())
	}
	if colourful(&plain) {
		t.Error("a buffer is not a terminal")
	}
}

func TestCheckLogins(t *testing.T) {
	t.Parallel()
	entries := []keyring.Entry{
		{Key: "https://a.example.org", Record: keyring.Record{
			Token:  flows.Token{AccessToken: "x", Expires: at(30 * time.Second), RefreshToken: "r", RefreshExpires: at(time.Hour)},
			Server: &keyring.Server{Host: "https://a.example.org/api"}}},
		{Key: "https://b.example.org", Record: keyring.Record{Token: flows.Token{AccessToken: "x", Expires: at(-time.Hour)}}},
	}
	cs := checkLogins(nil, entries, nil, statusNow)
	if len(cs) != 2 || cs[0].Level != levelOK || !strings.Contains(cs[0].Detail, "expires in 30s, refreshed on next use") ||
		cs[1].Level != levelError || cs[1].Fix != "oidc-auth login https://b.example.org" {
		t.Errorf("checkLogins = %+v", cs)
	}
	if cs := checkLogins(nil, nil, nil, statusNow); len(cs) != 1 || cs[0].Level != levelWarning {
		t.Errorf("checkLogins without logins = %+v", cs)
	}
}

// doctorRun runs `oidc-auth doctor --json` in the home statusHome made and
// returns its exit code and checks by name.
func doctorRun(t *testing.T) (int, map[string]check, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), "", []string{"oidc-auth", "doctor", "--json"}, &out, &errb)
	var rep doctorReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s\nstderr: %s", err, out.String(), errb.String())
	}
	m := map[string]check{}
	for _, c := range rep.Checks {
		if c.OK != (c.Level == levelOK) {
			t.Errorf("check %+v: ok and level disagree", c)
		}
		m[c.Name] = c
	}
	return code, m, errb.String()
}

func TestDoctorRun(t *testing.T) {
	store, config := statusHome(t)
	t.Setenv("PATH", t.TempDir()) // no binary, no git
	srv, requests, withAuth := dateServer(t, 0)

	code, checks, stderr := doctorRun(t)
	if code != exitOK || checks["logins"].Level != levelWarning || checks["config"].Level != levelOK || checks["store"].Level != levelOK ||
		!strings.Contains(checks["store"].Detail, "the file "+store.Path) || checks["keychain"].Level != levelOK {
		t.Errorf("doctor in an empty home: exit %d, %+v\n%s", code, checks, stderr)
	}
	if c := checks["binary git-credential-oidc"]; c.Level != levelWarning || c.Fix != installCommand {
		t.Errorf("a missing helper nothing asks for: %+v", c)
	}

	putLogin(t, store, srv.URL+"/api/app", flows.Token{AccessToken: "secret-a", Expires: time.Now().Add(time.Hour).Unix()})
	if err := os.MkdirAll(filepath.Dir(config), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, []byte("[[server]]\nmatch = \"registry.example.org\"\nhost = \""+srv.URL+"/api/app\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, checks, stderr = doctorRun(t)
	if c := checks["binary docker-credential-oidc"]; c.Level != levelError {
		t.Errorf("a missing docker helper that the config needs: %+v", c)
	}
	if c := checks["server "+srv.URL+"/api/app"]; c.Level != levelOK || requests.Load() != 1 || withAuth.Load() != 0 {
		t.Errorf("the server: %+v after %d requests (%d not plain)", c, requests.Load(), withAuth.Load())
	}
	if c := checks["docker registry.example.org"]; c.Level != levelWarning || c.Fix != "oidc-auth setup docker registry.example.org --host "+srv.URL+"/api/app" {
		t.Errorf("docker not set up for a config entry: %+v", c)
	}
	if c := checks["login "+srv.URL+"/api/app"]; c.Level != levelOK || !strings.Contains(c.Detail, "valid for") {
		t.Errorf("the login: %+v", c)
	}
	if code != exitFailure || !strings.Contains(stderr, "1 check failed") {
		t.Errorf("doctor with one failure: exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stderr, "secret") {
		t.Errorf("doctor shows a token")
	}

	if err := os.WriteFile(config, []byte("[[server]]\nmatch = \"registry.example.org\"\nhots = \"https://x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, checks, _ = doctorRun(t)
	if c := checks["config"]; code != exitFailure || c.Level != levelError || !strings.Contains(c.Detail, config+":3") || !strings.Contains(c.Fix, config) {
		t.Errorf("a broken config file: exit %d, %+v", code, c)
	}
}

func TestRoughly(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		10*time.Minute - 400*time.Millisecond:             "10m",
		3*time.Hour - 600*time.Millisecond:                "3h",
		3*time.Hour + 29*time.Minute:                      "3h",
		75 * time.Second:                                  "75s",
		2*24*time.Hour + 13*time.Hour:                     "3d",
		10*time.Minute + 29*time.Second + time.Nanosecond: "10m",
	} {
		if got := roughly(d); got != want {
			t.Errorf("roughly(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestDoctorConfigPathPerSystem: without XDG_CONFIG_HOME, doctor reads and
// names the config file in the system's config directory (%APPDATA% on
// Windows, ~/Library/Application Support on macOS, ~/.config elsewhere),
// or at ~/.config where an older version left it.
func TestDoctorConfigPathPerSystem(t *testing.T) {
	_, xdgConfig := statusHome(t)
	t.Setenv("PATH", t.TempDir())
	dir := filepath.Dir(filepath.Dir(filepath.Dir(xdgConfig)))
	home := filepath.Join(dir, "home")
	appData := filepath.Join(dir, "appdata")
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("APPDATA", appData)
	file := filepath.Join("oidc-auth", "config.toml")
	want := filepath.Join(home, ".config", file)
	switch runtime.GOOS {
	case "windows":
		want = filepath.Join(appData, file)
	case "darwin":
		want = filepath.Join(home, "Library", "Application Support", file)
	}
	if _, checks, stderr := doctorRun(t); !strings.Contains(checks["config"].Detail, "no config file at "+want) {
		t.Errorf("config check %+v, want no file at %s\n%s", checks["config"], want, stderr)
	}

	old := filepath.Join(home, ".config", file)
	if err := os.MkdirAll(filepath.Dir(old), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, []byte("[[server]]\nmatch = \"registry.example.org\"\nhost = \"https://127.0.0.1:1/api/app\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, checks, stderr := doctorRun(t); !strings.Contains(checks["config"].Detail, "config file "+old+" is valid: 1 [[server]] entry") {
		t.Errorf("config check %+v, want the file at %s read\n%s", checks["config"], old, stderr)
	}
}
