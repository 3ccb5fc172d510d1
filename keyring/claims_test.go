package keyring

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
)

// TestClaimsBesideTheToken checks that who a login names is kept beside
// the token, whose object holds the v1 fields alone, and that records of
// earlier versions, which kept the claims inside the token, still read.
func TestClaimsBesideTheToken(t *testing.T) {
	rec := &Record{Token: Token{AccessToken: "a", TokenType: "Bearer", Expires: 1_900_000_000, Claims: &flows.Claims{PreferredUsername: "jdoe"}}}
	b, err := encodeRecord(rec, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Token  map[string]any `json:"token"`
		Claims map[string]any `json:"claims"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.Token["claims"]; ok || raw.Claims["preferred_username"] != "jdoe" {
		t.Errorf("stored %s: want the claims beside the token, not in it", b)
	}
	for _, stored := range []string{string(b), `{"token":{"access_token":"a","expires":1900000000,"claims":{"preferred_username":"jdoe"}},"stored_at":1}`} {
		got, ok := decodeRecord([]byte(stored))
		if !ok || got.Token.Claims.User() != "jdoe" {
			t.Errorf("decode %s: %+v", stored, got)
		}
	}
}
