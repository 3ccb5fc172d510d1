package flows

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAuthenticateMinValid(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name     string
		left     time.Duration // of the stored access token
		minValid time.Duration
		rejected string
		refresh  bool
		want     string // access token returned, "" for an error
	}{
		{"enough left", 20 * time.Minute, 10 * time.Minute, "", false, "old"},
		{"less than asked", 3 * time.Minute, 4 * time.Minute, "", true, "fresh"},
		{"zero asks for the margin only", 2 * time.Minute, 0, "", false, "old"},
		{"below the margin", 50 * time.Second, 30 * time.Second, "", true, "fresh"},
		{"rejected is refreshed", 20 * time.Minute, 0, "old", true, "fresh"},
		{"another token was rejected", 20 * time.Minute, 0, "older", false, "old"},
		{"longer than the server issues", 5 * time.Minute, time.Hour, "", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFakeServer(t)
			s.token = func(w http.ResponseWriter, r *http.Request, n int) { issue(w, "fresh") } // 5 minutes
			store := newMemStore()
			cfg := s.config()
			store.Put(context.Background(), cfg.Host, stored("old", "old-r", now.Add(tt.left), now.Add(time.Hour)))
			tok, err := Authenticate(context.Background(), cfg, store, Options{Interaction: InteractNever, MinValid: tt.minValid, Rejected: tt.rejected})
			if got := len(s.tokenForms()); (got == 1) != tt.refresh || got > 1 {
				t.Errorf("%d token requests, want refresh %v", got, tt.refresh)
			}
			if tt.want == "" {
				var le *LifetimeError
				if !errors.As(err, &le) {
					t.Fatalf("got %v, %v; want a *LifetimeError", tok, err)
				}
				if le.Left > 5*time.Minute || le.Left < 4*time.Minute || le.MinValid != tt.minValid {
					t.Errorf("error fields %+v", le)
				}
				if msg := err.Error(); !strings.Contains(msg, "valid for only 5m0s") && !strings.Contains(msg, "valid for only 4m59s") {
					t.Errorf("error %q does not say how long the server's tokens last", msg)
				}
				if rec, _ := store.Get(context.Background(), cfg.Host); rec.Token.AccessToken != "fresh" {
					t.Errorf("the new token was not stored: %+v", rec.Token)
				}
				return
			}
			if err != nil || tok.AccessToken != tt.want {
				t.Fatalf("got %v, %v; want %s", tok, err, tt.want)
			}
		})
	}
}

func TestCachedFor(t *testing.T) {
	t.Parallel()
	now := time.Unix(1767225000, 0)
	rec := stored("a", "r", now.Add(10*time.Minute), now.Add(time.Hour))
	for _, tt := range []struct {
		min  time.Duration
		want bool
	}{{0, true}, {9 * time.Minute, true}, {10 * time.Minute, false}, {time.Hour, false}} {
		if _, ok := CachedFor(rec, "https://h", now, tt.min); ok != tt.want {
			t.Errorf("CachedFor(10m left, %v) = %v, want %v", tt.min, ok, tt.want)
		}
	}
	if _, ok := CachedFor(stored("a", "r", now.Add(50*time.Second), now.Add(time.Hour)), "https://h", now, 0); ok {
		t.Error("a token with less than ValidityMargin left was cached")
	}
}
