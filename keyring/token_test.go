package keyring_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// exp is the access token expiry used throughout: 2026-01-01T00:00:00Z.
const exp = 1767225600

// at returns the time sec seconds plus nsec nanoseconds after the epoch.
func at(sec int64, nsec int64) time.Time { return time.Unix(sec, nsec) }

func TestMargins(t *testing.T) {
	t.Parallel()
	if keyring.ValidityMargin != 60*time.Second {
		t.Errorf("ValidityMargin = %v, want 60s", keyring.ValidityMargin)
	}
	if keyring.StoreMargin != 30*time.Second {
		t.Errorf("StoreMargin = %v, want 30s", keyring.StoreMargin)
	}
}

func TestTokenValid(t *testing.T) {
	t.Parallel()
	tok := &keyring.Token{AccessToken: "at", Expires: exp}
	tests := []struct {
		name string
		tok  *keyring.Token
		now  time.Time
		want bool
	}{
		{"well before expiry", tok, at(exp-3600, 0), true},
		{"61 s before expiry", tok, at(exp-61, 0), true},
		{"60.5 s before expiry", tok, at(exp-61, 500_000_000), true},
		{"1 ns more than 60 s before expiry", tok, at(exp-61, 999_999_999), true},
		{"exactly 60 s before expiry", tok, at(exp-60, 0), false},
		{"1 ns less than 60 s before expiry", tok, at(exp-60, 1), false},
		{"59 s before expiry", tok, at(exp-59, 0), false},
		{"at expiry", tok, at(exp, 0), false},
		{"after expiry", tok, at(exp+10, 0), false},
		{"no access token", &keyring.Token{Expires: exp}, at(exp-3600, 0), false},
		{"nil token", nil, at(exp-3600, 0), false},
		{"refresh expires earlier", &keyring.Token{AccessToken: "at", Expires: exp, RefreshToken: "rt", RefreshExpires: exp - 3600}, at(exp-61, 0), true},
		{"refresh token does not extend validity", &keyring.Token{AccessToken: "at", Expires: exp, RefreshToken: "rt", RefreshExpires: exp + 3600}, at(exp-60, 0), false},
		{"no expiry", &keyring.Token{AccessToken: "at"}, at(exp, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.tok.Valid(tt.now); got != tt.want {
				t.Errorf("Valid(%v) = %v, want %v", tt.now.UTC(), got, tt.want)
			}
		})
	}
}

func TestTokenRefreshable(t *testing.T) {
	t.Parallel()
	const rexp = exp + 3600
	tok := &keyring.Token{AccessToken: "at", Expires: exp, RefreshToken: "rt", RefreshExpires: rexp}
	tests := []struct {
		name string
		tok  *keyring.Token
		now  time.Time
		want bool
	}{
		{"after access expiry", tok, at(exp+10, 0), true},
		{"61 s before refresh expiry", tok, at(rexp-61, 0), true},
		{"60.5 s before refresh expiry", tok, at(rexp-61, 500_000_000), true},
		{"exactly 60 s before refresh expiry", tok, at(rexp-60, 0), false},
		{"1 ns less than 60 s before refresh expiry", tok, at(rexp-60, 1), false},
		{"after refresh expiry", tok, at(rexp+1, 0), false},
		{"no refresh token", &keyring.Token{AccessToken: "at", Expires: exp, RefreshExpires: rexp}, at(exp, 0), false},
		{"no refresh expiry", &keyring.Token{AccessToken: "at", Expires: exp, RefreshToken: "rt"}, at(exp-3600, 0), false},
		{"refresh expires before access token", &keyring.Token{AccessToken: "at", Expires: exp, RefreshToken: "rt", RefreshExpires: exp - 3600}, at(exp-3600-60, 0), false},
		{"refresh expires before access token, still refreshable", &keyring.Token{AccessToken: "at", Expires: exp, RefreshToken: "rt", RefreshExpires: exp - 3600}, at(exp-3600-61, 0), true},
		{"nil token", nil, at(exp, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.tok.Refreshable(tt.now); got != tt.want {
				t.Errorf("Refreshable(%v) = %v, want %v", tt.now.UTC(), got, tt.want)
			}
		})
	}
}

func TestTokenLive(t *testing.T) {
	t.Parallel()
	const rexp = exp + 3600
	tests := []struct {
		name string
		tok  *keyring.Token
		now  time.Time
		want bool
	}{
		{"access only, 31 s left", &keyring.Token{AccessToken: "at", Expires: exp}, at(exp-31, 0), true},
		{"access only, 30.5 s left", &keyring.Token{AccessToken: "at", Expires: exp}, at(exp-31, 500_000_000), true},
		{"access only, exactly 30 s left", &keyring.Token{AccessToken: "at", Expires: exp}, at(exp-30, 0), false},
		{"access only, 1 ns under 30 s left", &keyring.Token{AccessToken: "at", Expires: exp}, at(exp-30, 1), false},
		{"access expired, refresh 31 s left", &keyring.Token{Expires: exp, RefreshToken: "rt", RefreshExpires: rexp}, at(rexp-31, 0), true},
		{"access expired, refresh exactly 30 s left", &keyring.Token{Expires: exp, RefreshToken: "rt", RefreshExpires: rexp}, at(rexp-30, 0), false},
		{"refresh earlier than access, access 31 s left", &keyring.Token{Expires: exp, RefreshToken: "rt", RefreshExpires: exp - 3600}, at(exp-31, 0), true},
		{"refresh earlier than access, access 30 s left", &keyring.Token{Expires: exp, RefreshToken: "rt", RefreshExpires: exp - 3600}, at(exp-30, 0), false},
		{"live but not valid", &keyring.Token{AccessToken: "at", Expires: exp}, at(exp-45, 0), true},
		{"no expiries", &keyring.Token{AccessToken: "at"}, at(exp, 0), false},
		{"nil token", nil, at(0, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.tok.Live(tt.now); got != tt.want {
				t.Errorf("Live(%v) = %v, want %v", tt.now.UTC(), got, tt.want)
			}
		})
	}
}

func TestTokenExpiresAt(t *testing.T) {
	t.Parallel()
	tok := keyring.Token{AccessToken: "at", Expires: exp, RefreshToken: "rt", RefreshExpires: exp + 3600}
	if got, want := tok.ExpiresAt(), time.Unix(exp, 0); !got.Equal(want) {
		t.Errorf("ExpiresAt() = %v, want %v", got, want)
	}
	if got, want := tok.RefreshExpiresAt(), time.Unix(exp+3600, 0); !got.Equal(want) {
		t.Errorf("RefreshExpiresAt() = %v, want %v", got, want)
	}
	for _, tok := range []keyring.Token{
		{AccessToken: "at", Expires: exp, RefreshExpires: exp + 3600},
		{AccessToken: "at", Expires: exp, RefreshToken: "rt"},
	} {
		if got := tok.RefreshExpiresAt(); !got.IsZero() {
			t.Errorf("RefreshExpiresAt() of %+v = %v, want the zero time", tok, got)
		}
	}
}

func TestTokenUnmarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want keyring.Token
	}{
		{
			name: "reference client token",
			in: `{"access_token": "at-1", "token_type": "Bearer", "expires": 1767225600,
				"refresh_token": "rt-1", "refresh_expires": 1767229200, "scope": "openid profile",
				"headers": {"Authorization": "Bearer at-1"}}`,
			want: keyring.Token{
				AccessToken: "at-1", TokenType: "Bearer", Expires: 1767225600,
				RefreshToken: "rt-1", RefreshExpires: 1767229200, Scope: "openid profile",
				Headers: map[string]string{"Authorization": "Bearer at-1"},
			},
		},
		{
			name: "float expiries from time.time()",
			in:   `{"access_token": "a", "expires": 1767225600.75, "refresh_expires": 1767229200.25}`,
			want: keyring.Token{AccessToken: "a", Expires: 1767225600, RefreshExpires: 1767229200},
		},
		{
			name: "float with zero fraction",
			in:   `{"access_token": "a", "expires": 1767225600.0}`,
			want: keyring.Token{AccessToken: "a", Expires: 1767225600},
		},
		{
			name: "exponent notation",
			in:   `{"access_token": "a", "expires": 1.7672256e9}`,
			want: keyring.Token{AccessToken: "a", Expires: 1767225600},
		},
		{
			name: "quoted numbers",
			in:   `{"access_token": "a", "expires": "1767225600", "refresh_expires": "1767229200.5"}`,
			want: keyring.Token{AccessToken: "a", Expires: 1767225600, RefreshExpires: 1767229200},
		},
		{
			name: "absent expiries",
			in:   `{"access_token": "a", "token_type": "bearer"}`,
			want: keyring.Token{AccessToken: "a", TokenType: "bearer"},
		},
		{
			name: "null expiries",
			in:   `{"access_token": "a", "expires": null, "refresh_expires": null}`,
			want: keyring.Token{AccessToken: "a"},
		},
		{
			name: "unknown fields ignored, the ID token kept",
			in:   `{"access_token": "a", "expires": 1767225600, "id_token": "x", "extra": {"n": [1, 2]}}`,
			want: keyring.Token{AccessToken: "a", Expires: 1767225600, IDToken: "x"},
		},
		{
			name: "empty object",
			in:   `{}`,
			want: keyring.Token{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Start from a filled token: decoding must replace every field.
			got := keyring.Token{AccessToken: "old", TokenType: "old", Expires: 1, RefreshToken: "old",
				RefreshExpires: 2, Scope: "old", Headers: map[string]string{"X-Old": "1"}}
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Unmarshal(%s)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestTokenUnmarshalJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		field string // the field the error names; "" when the JSON itself is wrong
	}{
		{"string expires", `{"access_token": "a", "expires": "tomorrow"}`, ""},
		{"bool expires", `{"access_token": "a", "expires": true}`, ""},
		{"object expires", `{"access_token": "a", "expires": {}}`, ""},
		{"array refresh_expires", `{"access_token": "a", "expires": 1, "refresh_expires": [1]}`, ""},
		{"string refresh_expires", `{"access_token": "a", "refresh_expires": "soon"}`, ""},
		{"expires out of range", `{"access_token": "a", "expires": 1e300}`, "expires"},
		{"refresh_expires out of range", `{"access_token": "a", "expires": 1, "refresh_expires": -1e16}`, "refresh_expires"},
		{"integer too big for int64", `{"access_token": "a", "expires": 99999999999999999999}`, "expires"},
		{"wrong access_token type", `{"access_token": 5, "expires": 1}`, ""},
		{"wrong headers type", `{"access_token": "a", "headers": ["Authorization"]}`, ""},
		{"not an object", `["a"]`, ""},
		{"truncated", `{"access_token": "a", "expires": 1`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var tok keyring.Token
			err := json.Unmarshal([]byte(tt.in), &tok)
			if err == nil {
				t.Fatalf("Unmarshal(%s) = %+v, want an error", tt.in, tok)
			}
			if tt.field != "" && !strings.HasPrefix(err.Error(), tt.field+": ") {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
		})
	}
}

func TestTokenMarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tok  keyring.Token
		want string
	}{
		{
			name: "all fields",
			tok: keyring.Token{AccessToken: "at", TokenType: "Bearer", Expires: exp, RefreshToken: "rt",
				RefreshExpires: exp + 3600, Scope: "openid", Headers: map[string]string{"Authorization": "Bearer at"}},
			want: `{"access_token":"at","token_type":"Bearer","expires":1767225600,"refresh_token":"rt",` +
				`"refresh_expires":1767229200,"scope":"openid","headers":{"Authorization":"Bearer at"}}`,
		},
		{
			name: "only required fields",
			tok:  keyring.Token{AccessToken: "at", Expires: exp},
			want: `{"access_token":"at","expires":1767225600}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.tok)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("Marshal = %s\nwant      %s", b, tt.want)
			}
		})
	}
}

func FuzzTokenUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"access_token": "at", "token_type": "Bearer", "expires": 1767225600, "refresh_token": "rt", "refresh_expires": 1767229200, "scope": "openid", "headers": {"Authorization": "Bearer at"}}`,
		`{"access_token": "a", "expires": 1767225600.75}`,
		`{"expires": "1767225600"}`,
		`{"expires": null}`,
		`{"expires": 1e300}`,
		`{"expires": -0.5, "refresh_expires": 9223372036854775807}`,
		`{"expires": "x"}`,
		`{"headers": {}}`,
		`{}`, `[]`, `null`, `"`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var tok keyring.Token
		if err := json.Unmarshal(in, &tok); err != nil {
			return
		}
		// What decodes must survive a round trip through the encoder.
		b, err := json.Marshal(tok)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", tok, err)
		}
		var again keyring.Token
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("Unmarshal(%s) of a marshalled token: %v", b, err)
		}
		if len(tok.Headers) == 0 {
			tok.Headers = nil // omitempty drops an empty map
		}
		if !reflect.DeepEqual(again, tok) {
			t.Fatalf("round trip changed the token:\n got %+v\nwant %+v", again, tok)
		}
		// The predicates must not panic on anything that decodes.
		now := time.Unix(exp, 0)
		_ = tok.Valid(now)
		_ = tok.Refreshable(now)
		_ = tok.Live(now)
	})
}
