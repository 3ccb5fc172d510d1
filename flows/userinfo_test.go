package flows

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestPyClaims checks who a py-oidc-auth login is said to belong to: the
// access token's own claims when it is a JWT that names someone, else the
// userinfo route's answer, made terminal-safe, and nobody when the route
// fails or redirects (the token is never sent on).
func TestPyClaims(t *testing.T) {
	jwt := func(payload string) string {
		return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Write([]byte(`{"username":"mallory"}`))
	}))
	defer other.Close()
	for _, tt := range []struct {
		name, token string
		answer      func(w http.ResponseWriter, r *http.Request)
		wantUser    string
		wantAsks    int32
	}{
		{"a JWT naming its user", jwt(`{"sub":"u1","preferred_username":"jdoe","email":"j@example.org"}`), nil, "jdoe", 0},
		{"an opaque token, userinfo answers", "opaque-access-token-0123456789", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer opaque-access-token-0123456789" {
				http.Error(w, "no token", http.StatusForbidden)
				return
			}
			w.Write([]byte(`{"username":"janedoe","first_name":"Jane","last_name":"Doe","email":"jane@example.org","pw_name":"jd"}`))
		}, "janedoe", 1},
		{"a JWT with a subject alone, userinfo answers", jwt(`{"sub":"u1"}`), func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"email":"jane@example.org"}`))
		}, "jane@example.org", 1},
		{"a JWT with a subject alone, userinfo refuses", jwt(`{"sub":"u1"}`), func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"detail":"Token missing required scopes"}`, http.StatusForbidden)
		}, "u1", 1},
		{"userinfo refuses", "opaque-access-token-0123456789", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "forbidden", http.StatusForbidden)
		}, "", 1},
		{"userinfo redirects", "opaque-access-token-0123456789", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
		}, "", 1},
		{"userinfo sends controls", "opaque-access-token-0123456789", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"username":"jane\u001b]0;owned\u0007doe"}`))
		}, "jane]0;owneddoe", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var asks atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/auth/v2/userinfo" || r.Method != http.MethodGet {
					http.NotFound(w, r)
					return
				}
				asks.Add(1)
				tt.answer(w, r)
			}))
			defer srv.Close()
			cfg := Config{Host: srv.URL + "/api"}.withDefaults()
			c := pyClaims(context.Background(), cfg, &Token{AccessToken: tt.token, TokenType: "Bearer"})
			if got := c.User(); got != tt.wantUser {
				t.Errorf("user %q, want %q (claims %+v)", got, tt.wantUser, c)
			}
			if asks.Load() != tt.wantAsks {
				t.Errorf("userinfo asked %d times, want %d", asks.Load(), tt.wantAsks)
			}
		})
	}
	if elsewhere.Load() != 0 {
		t.Errorf("the token followed a redirect %d times", elsewhere.Load())
	}
}

func TestUserinfoRoute(t *testing.T) {
	for in, want := range map[string]string{
		"/auth/v2/token": "/auth/v2/userinfo", "/custom/token/": "/custom/userinfo", "/oauth/issue": "/auth/v2/userinfo",
	} {
		if got := userinfoRoute(in); got != want {
			t.Errorf("userinfoRoute(%q) = %q, want %q", in, got, want)
		}
	}
}
