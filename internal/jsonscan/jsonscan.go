// Package jsonscan finds one member of a large JSON object without decoding
// the rest: the read path of oidc-auth's token file, whose cost must not
// grow with the number of logins it holds. The scan itself is package
// scan, which imports nothing heavy, so that the small commands that
// answer cached gets use the same scan as the keyring package (see
// internal/fast and internal/lean); this package gives it encoding/json's
// checks.
package jsonscan

import (
	"encoding/json"

	"github.com/oidc-auth/oidc-auth/internal/jsonscan/scan"
)

// FindEntry returns the raw value of key in the top-level object of the
// JSON document b (the last one when the key is repeated), nil when b has
// none or is JSON null, and bareValue, the raw value of a top-level
// "access_token" key (the last one), which says whether b is a bare token.
// The entry and the keys are checked as encoding/json checks them (see
// package scan for what the scan checks of the rest).
func FindEntry(b []byte, key string) (raw, bareValue []byte, err error) {
	return scan.Find(b, key, Checks)
}

// Checks are encoding/json's.
var Checks = scan.Checks{Valid: json.Valid, Unquote: unquote}

// unquote decodes the key k, written as raw JSON string content, as
// encoding/json decodes it.
func unquote(k []byte) (string, bool) {
	var got string
	q := make([]byte, 0, len(k)+2)
	q = append(append(append(q, '"'), k...), '"')
	return got, json.Unmarshal(q, &got) == nil
}
