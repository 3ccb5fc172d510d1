package tokenrec_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/tokenrec"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// FuzzDecodeRecord checks Decode against keyring: whatever entry it
// reads, keyring's FileStore reads the same token, expiries and server
// from a file that holds it, and finds no login exactly when it is no
// longer live.
func FuzzDecodeRecord(f *testing.F) {
	for _, s := range []string{
		`{"token": {"access_token": "a", "token_type": "Bearer", "expires": 4102444800, "refresh_token": "r", "refresh_expires": 4102448400, "scope": "openid", "headers": {"Authorization": "Bearer a"}}, "stored_at": 1700000000.5}`,
		`{"token": {"access_token": "a", "expires": 4102444800.9}, "server": {"host": "https://h.example.org/app", "username": "u", "redirect_ports": [8080, 8081], "scopes": ["openid", null]}, "claims": {"email": "e@example.org"}}`,
		`{"token": {"access_token": "a", "expires": 4102444800}, "server": {"issuer": "https://idp.example.org", "client_id": "c"}, "extra": [1, {"x": "\u00e9"}]}`,
		`{"token": {"access_token": "a", "expires": 4102444800, "id_token": "h.p.s"}, "server": {"issuer": "https://idp.example.org", "client_id": "c\u0041", "redirect_host": "localhost"}}`,
		`{"token": {"access_token": "a", "expires": 4102444800, "id_token": "x\ny"}, "server": null, "claims": null, "stored_at": null}`,
		`{"token": {"Access_Token": "a", "expires": 4102444800}}`,
		`{"token": {"access_token": "a", "expires": "4102444800"}}`,
		`{"token": {"access_token": "a", "expires": 1e300}}`,
		`{"token": null}`,
		`{"token": {"access_token": 1}}`,
		`{"token": {"access_token": "a", "expires": 4102444800}, "server": {"redirect_ports": [1.5]}}`,
		`{"token": {"access_token": "a", "expires": 4102444800, "headers": {"a": 1}}}`,
		`{"token": {"access_token": "a", "expires": 4102444800}, "stored_at": "x"}`,
		`{"token": {"access_token": "a", "expires": 10}}`,
		`[]`, `"x"`, `{}`,
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, entry string) {
		if !json.Valid([]byte(entry)) {
			return // jsonscan refuses it before Decode sees it
		}
		rec, ok := tokenrec.Decode([]byte(entry))
		if !ok {
			return
		}
		path := filepath.Join(dir, "tokens.json")
		if err := os.WriteFile(path, []byte(`{"https://h.example.org": `+entry+`}`), 0o600); err != nil {
			t.Fatal(err)
		}
		at := time.Unix(1700000000, 0)
		got, err := (&keyring.FileStore{Path: path, Now: func() time.Time { return at }}).Get(context.Background(), "https://h.example.org")
		live := max(rec.Expires, rec.RefreshExpires)-30 > at.Unix()
		if errors.Is(err, keyring.ErrNotFound) && !live {
			return
		}
		if err != nil {
			t.Fatalf("Decode(%s) = %+v, but keyring: %v", entry, rec, err)
		}
		want := tokenrec.Record{Access: got.Token.AccessToken, Expires: got.Token.Expires, RefreshExpires: got.Token.RefreshExpires}
		if s := got.Server; s != nil {
			want.HasServer, want.Host, want.Username, want.Issuer, want.RedirectPorts = true, s.Host, s.Username, s.Issuer, s.RedirectPorts
		}
		if rec.Access != want.Access || rec.Expires != want.Expires || rec.RefreshExpires != want.RefreshExpires ||
			rec.HasServer != want.HasServer || rec.Host != want.Host || rec.Username != want.Username || rec.Issuer != want.Issuer ||
			!slices.Equal(rec.RedirectPorts, want.RedirectPorts) || !live {
			t.Fatalf("Decode(%s) = %+v (live %v), keyring reads %+v", entry, rec, live, want)
		}
		// The ID token's answer's fields, unless one was odd.
		if !rec.Odd {
			var clientID, redirectHost string
			if s := got.Server; s != nil {
				clientID, redirectHost = s.ClientID, s.RedirectHost
			}
			if rec.IDToken != got.Token.IDToken || rec.ClientID != clientID || rec.RedirectHost != redirectHost {
				t.Fatalf("Decode(%s) = %+v, keyring reads the ID token %q, client %q, redirect host %q", entry, rec, got.Token.IDToken, clientID, redirectHost)
			}
		}
	})
}
