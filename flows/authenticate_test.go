package flows

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// memStore is a map-backed TokenStore.
type memStore struct {
	mu    sync.Mutex
	recs  map[string]Record
	puts  int
	locks int
}

var _ TokenStore = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{recs: map[string]Record{}} }

func (m *memStore) Get(_ context.Context, key string) (*Record, error) {
	k, err := Key(key)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[k]
	if !ok {
		return nil, ErrNotFound
	}
	return &r, nil
}

func (m *memStore) Put(_ context.Context, key string, rec *Record) error {
	k, err := Key(key)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[k] = *rec
	m.puts++
	return nil
}

func (m *memStore) Remove(_ context.Context, key string) error {
	k, _ := Key(key)
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, k)
	return nil
}

func (m *memStore) List(context.Context) ([]Entry, error) { return nil, nil }

func (m *memStore) Lock(context.Context, string) (func(), error) {
	m.mu.Lock()
	m.locks++
	m.mu.Unlock()
	return func() {}, nil
}

func stored(access, refresh string, exp, rexp time.Time) *Record {
	return &Record{Token: Token{AccessToken: access, RefreshToken: refresh, Expires: exp.Unix(), RefreshExpires: rexp.Unix()}}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answer  func(w http.ResponseWriter)
		expired bool
		text    string
	}{
		{"rotation", func(w http.ResponseWriter) { issue(w, "new") }, false, ""},
		{"keeps refresh token when none is sent", func(w http.ResponseWriter) {
			writeJSON(w, 200, map[string]any{"access_token": "new", "expires_in": 300})
		}, false, ""},
		{"reused refresh token", func(w http.ResponseWriter) { upstream(w, "invalid_grant") }, true, "invalid_grant"},
		{"Dex invalid_request", func(w http.ResponseWriter) { upstream(w, "invalid_request") }, true, "invalid_request"},
		{"broker session gone", func(w http.ResponseWriter) {
			writeJSON(w, 401, map[string]string{"detail": "Session expired or not found. Please re-authenticate."})
		}, true, "Session expired"},
		{"server failure", func(w http.ResponseWriter) {
			writeJSON(w, 502, map[string]string{"detail": "Failed to contact OIDC endpoint: x"})
		}, false, "Failed to contact OIDC endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFakeServer(t)
			s.token = func(w http.ResponseWriter, r *http.Request, n int) { tt.answer(w) }
			old := &Token{AccessToken: "old", RefreshToken: "old-r", RefreshExpires: 1_900_000_000, Claims: &Claims{PreferredUsername: "jdoe"}}
			tok, err := Refresh(context.Background(), s.config(), old)
			if got := s.tokenForms(); len(got) != 1 || len(got[0]) != 1 || got[0]["refresh-token"] != "old-r" {
				t.Errorf("sent %v, want only refresh-token=old-r", got)
			}
			if tt.text == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tok.AccessToken != "new" || tok.RefreshToken == "" || tok.Claims.User() != "jdoe" {
					t.Errorf("token %+v (a refresh keeps who the login named)", tok)
				}
				if tt.name == "keeps refresh token when none is sent" && (tok.RefreshToken != "old-r" || tok.RefreshExpires != 1_900_000_000) {
					t.Errorf("refresh token not kept: %+v", tok)
				}
				return
			}
			if err == nil || errors.Is(err, ErrSessionExpired) != tt.expired || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want session-expired=%v containing %q", err, tt.expired, tt.text)
			}
		})
	}
}

func TestAuthenticateUsesValidTokenWithoutNetwork(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	now := time.Now()
	store.Put(context.Background(), "https://auth.example.invalid", stored("cached", "r", now.Add(61*time.Second), now.Add(time.Hour)))
	cfg := Config{Host: "https://auth.example.invalid/api", HTTPClient: &http.Client{Transport: failTransport{t}}}
	tok, err := Authenticate(context.Background(), cfg, store, Options{Interaction: InteractNever, Now: func() time.Time { return now }})
	if err != nil || tok.AccessToken != "cached" {
		t.Fatalf("got %v, %v", tok, err)
	}
}

// failTransport fails the test on any request.
type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request to %s", r.URL)
	return nil, errors.New("no network in this test")
}

func TestAuthenticateRefreshesAndStores(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.token = func(w http.ResponseWriter, r *http.Request, n int) { issue(w, "fresh") }
	store := newMemStore()
	now := time.Now()
	cfg := s.config()
	store.Put(context.Background(), cfg.Host, stored("old", "old-r", now.Add(59*time.Second), now.Add(time.Hour)))
	tok, err := Authenticate(context.Background(), cfg, store, Options{Interaction: InteractNever})
	if err != nil || tok.AccessToken != "fresh" {
		t.Fatalf("got %v, %v", tok, err)
	}
	rec, _ := store.Get(context.Background(), cfg.Host)
	if rec.Token.AccessToken != "fresh" || rec.Server == nil || rec.Server.Host != cfg.Host {
		t.Errorf("stored %+v (server %+v)", rec.Token, rec.Server)
	}
}

func TestAuthenticateNeedsLogin(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.token = func(w http.ResponseWriter, r *http.Request, n int) { upstream(w, "invalid_grant") }
	s.device = func(w http.ResponseWriter, r *http.Request) { t.Error("a login started") }
	now := time.Now()
	for _, tt := range []struct {
		name   string
		rec    *Record
		reason string
	}{
		{"nothing stored", nil, "not logged in"},
		{"refresh rejected", stored("old", "old-r", now.Add(-time.Minute), now.Add(time.Hour)), "no longer accepts"},
		{"everything expired", stored("old", "old-r", now.Add(-time.Minute), now.Add(time.Second)), "has expired"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore()
			cfg := s.config()
			if tt.rec != nil {
				store.Put(context.Background(), cfg.Host, tt.rec)
			}
			puts := store.puts
			_, err := Authenticate(context.Background(), cfg, store, Options{Interaction: InteractNever})
			var lre *LoginRequiredError
			if !errors.Is(err, ErrLoginRequired) || !errors.As(err, &lre) {
				t.Fatalf("err = %v, want a LoginRequiredError", err)
			}
			if !strings.Contains(err.Error(), tt.reason) || !strings.Contains(err.Error(), "run `oidc-auth login "+cfg.Host+"`") {
				t.Errorf("message %q lacks %q or the command", err, tt.reason)
			}
			if store.puts != puts {
				t.Error("the store was written")
			}
		})
	}
}

func TestAuthenticateJobEnvironment(t *testing.T) {
	t.Setenv("SLURM_JOB_ID", "4711")
	_, err := Authenticate(context.Background(), Config{Host: "https://auth.example.invalid"}, newMemStore(), Options{})
	if !errors.Is(err, ErrLoginRequired) || !strings.Contains(err.Error(), "SLURM_JOB_ID is set") {
		t.Fatalf("err = %v", err)
	}
	if name, ok := JobEnvironment(); !ok || name != "SLURM_JOB_ID" {
		t.Errorf("JobEnvironment() = %q, %v", name, ok)
	}
}

func TestAuthenticateForceAndFallback(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.device = func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 502, map[string]string{"detail": "OIDC endpoint 'device_authorization_endpoint' not found in discovery."})
	}
	s.login = loginToCallback(t, nil)
	s.token = func(w http.ResponseWriter, r *http.Request, n int) { issue(w, "via-code") }
	store := newMemStore()
	cfg := s.config()
	cfg.RedirectPorts = freePorts(t, 1)
	now := time.Now()
	store.Put(context.Background(), cfg.Host, stored("cached", "r", now.Add(time.Hour), now.Add(time.Hour)))
	b := &followBrowser{}
	var out strings.Builder
	tok, err := Authenticate(context.Background(), cfg, store, Options{Force: true, Interaction: InteractAlways, Out: &out, Browser: b.open})
	b.wg.Wait()
	if err != nil || tok.AccessToken != "via-code" {
		t.Fatalf("got %v, %v", tok, err)
	}
	if !strings.Contains(out.String(), "has no device login") {
		t.Errorf("fallback not announced:\n%s", out.String())
	}
	rec, _ := store.Get(context.Background(), cfg.Host)
	if rec.Token.AccessToken != "via-code" {
		t.Errorf("stored %q", rec.Token.AccessToken)
	}
}

func TestLoginDeviceOnlyDoesNotFallBack(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.device = func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 501, map[string]string{"detail": "off"}) }
	s.login = func(w http.ResponseWriter, r *http.Request) { t.Error("code flow started") }
	_, err := Login(context.Background(), s.config(), Options{Flow: FlowDevice, Out: &strings.Builder{}})
	if !errors.Is(err, ErrNoDeviceFlow) {
		t.Fatalf("err = %v", err)
	}
}

func TestParseFlow(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Flow{"": FlowAuto, "auto": FlowAuto, "Device": FlowDevice, " code ": FlowCode} {
		if got, err := ParseFlow(in); err != nil || got != want {
			t.Errorf("ParseFlow(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFlow("implicit"); err == nil {
		t.Error("ParseFlow accepted implicit")
	}
}

// rotatingStore is a memStore whose record is replaced, as another client
// that does not take our lock would replace it, right after the first Get
// under the lock.
type rotatingStore struct {
	*memStore
	gets    int
	replace *Record
}

func (r *rotatingStore) Get(ctx context.Context, key string) (*Record, error) {
	rec, err := r.memStore.Get(ctx, key)
	r.gets++
	if r.gets == 2 && r.replace != nil { // the read under the lock
		r.memStore.Put(ctx, key, r.replace)
	}
	return rec, err
}

func TestAuthenticateRereadsAfterRejectedRefresh(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.token = func(w http.ResponseWriter, r *http.Request, n int) {
		if r.PostForm.Get("refresh-token") == "rotated-r" {
			issue(w, "from-rotated")
			return
		}
		upstream(w, "invalid_grant")
	}
	now := time.Now()
	cfg := s.config()
	for _, tt := range []struct {
		name    string
		replace *Record
		want    string
		refresh int
	}{
		{"another client stored a valid token", stored("theirs", "rotated-r", now.Add(time.Hour), now.Add(time.Hour)), "theirs", 1},
		{"another client rotated the refresh token", stored("theirs", "rotated-r", now.Add(-time.Minute), now.Add(time.Hour)), "from-rotated", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s.mu.Lock()
			s.forms = nil
			s.mu.Unlock()
			store := &rotatingStore{memStore: newMemStore(), replace: tt.replace}
			store.memStore.Put(context.Background(), cfg.Host, stored("old", "used-r", now.Add(-time.Minute), now.Add(time.Hour)))
			tok, err := Authenticate(context.Background(), cfg, store, Options{Interaction: InteractNever})
			if err != nil || tok.AccessToken != tt.want {
				t.Fatalf("got %v, %v; want %s", tok, err, tt.want)
			}
			if n := len(s.tokenForms()); n != tt.refresh {
				t.Errorf("%d refresh requests, want %d", n, tt.refresh)
			}
			if store.locks != 1 {
				t.Errorf("%d locks taken, want 1", store.locks)
			}
		})
	}
}
