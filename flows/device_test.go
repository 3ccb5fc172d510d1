package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is a scripted py-oidc-auth server for unit tests: each route
// answers from a function, and every form it receives is recorded.
type fakeServer struct {
	*httptest.Server
	mu     sync.Mutex
	forms  []map[string]string // token-route forms in order
	device func(w http.ResponseWriter, r *http.Request)
	token  func(w http.ResponseWriter, r *http.Request, n int) // n counts token requests from 1
	login  func(w http.ResponseWriter, r *http.Request)
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	s := &fakeServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/p/auth/v2/device", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method", http.StatusMethodNotAllowed)
			return
		}
		s.device(w, r)
	})
	mux.HandleFunc("/p/auth/v2/token", func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("token request with content type %q", ct)
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		form := map[string]string{}
		for k, v := range r.PostForm {
			form[k] = strings.Join(v, ",")
		}
		s.mu.Lock()
		s.forms = append(s.forms, form)
		n := len(s.forms)
		s.mu.Unlock()
		s.token(w, r, n)
	})
	mux.HandleFunc("/p/auth/v2/login", func(w http.ResponseWriter, r *http.Request) { s.login(w, r) })
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *fakeServer) config() Config {
	return Config{Host: s.URL + "/p", Timeout: 10 * time.Second}
}

func (s *fakeServer) tokenForms() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]string(nil), s.forms...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// upstream answers an IdP error as py-oidc-auth servers wrap it.
func upstream(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"detail": fmt.Sprintf(`Upstream OIDC error: {"error":%q}`, code)})
}

func deviceStart(interval, expiresIn int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"device_code": "dev-123", "user_code": "ABCD-EFGH",
			"verification_uri": "https://idp/device", "verification_uri_complete": "https://idp/device?user_code=ABCD-EFGH",
			"expires_in": expiresIn, "interval": interval,
		})
	}
}

func issue(w http.ResponseWriter, access string) {
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "Bearer", "refresh_token": "r-" + access,
		"expires": time.Now().Add(5 * time.Minute).Unix(), "refresh_expires": time.Now().Add(30 * time.Minute).Unix(),
	})
}

// fakeClock is a clock that only moves when the flow waits.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) wait(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.t = c.t.Add(d)
	return ctx.Err()
}

func TestDeviceFlowPollSchedule(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.device = deviceStart(1, 600)
	answers := []string{"authorization_pending", "authorization_pending", "slow_down", "authorization_pending"}
	s.token = func(w http.ResponseWriter, r *http.Request, n int) {
		if n <= len(answers) {
			upstream(w, answers[n-1])
			return
		}
		issue(w, "tok")
	}
	clk := &fakeClock{t: time.Unix(1_767_225_000, 0)}
	var out strings.Builder
	f := &DeviceFlow{Config: s.config(), Out: &out, wait: clk.wait, now: clk.now}
	tok, err := f.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "tok" {
		t.Errorf("token %q", tok.AccessToken)
	}
	want := []time.Duration{time.Second, time.Second, 6 * time.Second, 6 * time.Second}
	if fmt.Sprint(clk.waits) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v (first poll at once, slow_down adds 5 s)", clk.waits, want)
	}
	for i, form := range s.tokenForms() {
		if len(form) != 1 || form["device-code"] != "dev-123" {
			t.Errorf("poll %d sent %v, want only device-code=dev-123", i, form)
		}
	}
	if !strings.Contains(out.String(), "https://idp/device?user_code=ABCD-EFGH") || !strings.Contains(out.String(), "ABCD-EFGH") {
		t.Errorf("the person was not shown the URL and code:\n%s", out.String())
	}
}

func TestDeviceFlowIntervalFloorAndDefault(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		interval any
		want     time.Duration
	}{{0, 5 * time.Second}, {nil, 5 * time.Second}, {0.2, time.Second}, {3, 3 * time.Second}} {
		s := newFakeServer(t)
		s.device = func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"device_code": "d", "user_code": "u", "verification_uri": "https://idp/device", "expires_in": 60, "interval": tt.interval})
		}
		s.token = func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				upstream(w, "authorization_pending")
				return
			}
			issue(w, "t")
		}
		clk := &fakeClock{t: time.Unix(0, 0)}
		if _, err := (&DeviceFlow{Config: s.config(), wait: clk.wait, now: clk.now}).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(clk.waits) != 1 || clk.waits[0] != tt.want {
			t.Errorf("interval %v: waits %v, want [%v]", tt.interval, clk.waits, tt.want)
		}
	}
}

func TestDeviceFlowEndsAtOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter)
		is     error
		text   string
	}{
		{"access_denied", func(w http.ResponseWriter) { upstream(w, "access_denied") }, ErrAccessDenied, "refused"},
		{"expired_token", func(w http.ResponseWriter) { upstream(w, "expired_token") }, ErrExpiredToken, "run the login again"},
		{"unknown device code", func(w http.ResponseWriter) { upstream(w, "invalid_grant") }, nil, "invalid_grant"},
		{"Dex invalid_request", func(w http.ResponseWriter) { upstream(w, "invalid_request") }, nil, "invalid_request"},
		{"RFC shape denied", func(w http.ResponseWriter) {
			writeJSON(w, 400, map[string]string{"error": "access_denied", "error_description": "user said no"})
		}, ErrAccessDenied, "user said no"},
		{"server error text", func(w http.ResponseWriter) {
			writeJSON(w, 400, map[string]string{"detail": "Token creation failed."})
		}, nil, "Token creation failed."},
		{"HTML page", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			fmt.Fprint(w, "<html><title>502 Bad Gateway</title></html>")
		}, nil, "502 Bad Gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFakeServer(t)
			s.device = deviceStart(1, 600)
			s.token = func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 1 {
					upstream(w, "authorization_pending")
					return
				}
				tt.answer(w)
			}
			clk := &fakeClock{t: time.Unix(0, 0)}
			_, err := (&DeviceFlow{Config: s.config(), wait: clk.wait, now: clk.now}).Run(context.Background())
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.is, tt.text)
			}
			if n := len(s.tokenForms()); n != 2 {
				t.Errorf("%d polls, want 2: the flow must end on the first such answer", n)
			}
		})
	}
}

func TestDeviceFlowStopsAtExpiresIn(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.device = deviceStart(2, 5)
	s.token = func(w http.ResponseWriter, r *http.Request, n int) { upstream(w, "authorization_pending") }
	clk := &fakeClock{t: time.Unix(0, 0)}
	_, err := (&DeviceFlow{Config: s.config(), wait: clk.wait, now: clk.now}).Run(context.Background())
	if !errors.Is(err, ErrExpiredToken) {
		t.Fatalf("err = %v, want ErrExpiredToken", err)
	}
	if got := clk.now().Sub(time.Unix(0, 0)); got != 5*time.Second {
		t.Errorf("gave up after %v, want exactly expires_in (5s)", got)
	}
	if fmt.Sprint(clk.waits) != "[2s 2s 1s]" {
		t.Errorf("waits %v, want [2s 2s 1s]", clk.waits)
	}
}

func TestDeviceFlowTimeoutAndCancel(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.device = deviceStart(1, 600)
	s.token = func(w http.ResponseWriter, r *http.Request, n int) { upstream(w, "authorization_pending") }
	cfg := s.config()
	cfg.Timeout = 1500 * time.Millisecond
	start := time.Now()
	_, err := (&DeviceFlow{Config: cfg}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "timed out after 1.5s") {
		t.Fatalf("err = %v, want the login timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	_, err = (&DeviceFlow{Config: s.config()}).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestDeviceFlowStartErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter)
		is     error
		text   string
	}{
		// A 404 is a wrong URL or path prefix, never "no device flow".
		{"404 Flask", func(w http.ResponseWriter) { writeJSON(w, 404, map[string]string{"detail": ""}) }, nil, "check the server URL and its path prefix"},
		{"404 FastAPI", func(w http.ResponseWriter) { writeJSON(w, 404, map[string]string{"detail": "Not Found"}) }, nil, "no py-oidc-auth server at"},
		{"404 HTML", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(404)
			fmt.Fprint(w, "<html><title>404 Not Found</title></html>")
		}, nil, "404 Not Found"},
		{"405 HTML", func(w http.ResponseWriter) { w.Header().Set("Content-Type", "text/html"); w.WriteHeader(405) }, ErrNoDeviceFlow, "405"},
		{"501", func(w http.ResponseWriter) { writeJSON(w, 501, map[string]string{"detail": "Not Implemented"}) }, ErrNoDeviceFlow, "501"},
		{"502 no device endpoint", func(w http.ResponseWriter) {
			writeJSON(w, 502, map[string]string{"detail": "OIDC endpoint 'device_authorization_endpoint' not found in discovery."})
		}, ErrNoDeviceFlow, "device_authorization_endpoint"},
		{"503", func(w http.ResponseWriter) { writeJSON(w, 503, map[string]string{"detail": "Service Unavailable"}) }, nil, "503"},
		{"502", func(w http.ResponseWriter) {
			writeJSON(w, 502, map[string]string{"detail": "Failed to contact OIDC endpoint: timeout"})
		}, nil, "Failed to contact OIDC endpoint"},
		{"missing user_code", func(w http.ResponseWriter) {
			writeJSON(w, 200, map[string]any{"device_code": "d", "verification_uri": "https://idp/device", "expires_in": 60})
		}, nil, "without user_code"},
		{"missing expires_in", func(w http.ResponseWriter) {
			writeJSON(w, 200, map[string]any{"device_code": "d", "user_code": "u", "verification_uri": "https://idp/device"})
		}, nil, "without expires_in"},
		{"not JSON", func(w http.ResponseWriter) { w.Header().Set("Content-Type", "text/plain"); fmt.Fprint(w, "hello") }, nil, "instead of JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFakeServer(t)
			s.device = func(w http.ResponseWriter, r *http.Request) { tt.answer(w) }
			s.token = func(w http.ResponseWriter, r *http.Request, n int) { t.Error("token route called") }
			_, err := (&DeviceFlow{Config: s.config()}).Run(context.Background())
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) || (tt.is == nil && errors.Is(err, ErrNoDeviceFlow)) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.is, tt.text)
			}
		})
	}
}
