// Package answer writes the answers that both stages of the commands give
// (internal/fast, in the commands and in oidc-auth-core, and
// internal/lean, the commands' first stage on Linux) byte for byte as the
// core's helpers write them, and reads the few inputs they read alike. It
// imports nothing heavy (not os, fmt or encoding/json).
package answer

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/jsonscan/scan"
	"github.com/oidc-auth/oidc-auth/internal/tokenrec"
)

// JSONPlain reports whether encoding/json writes s as it is between
// quotes: printable ASCII without '"', '\\', '<', '>' and '&' (which
// json.Encoder escapes for HTML).
func JSONPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || strings.IndexByte(`"\<>&`, c) >= 0 {
			return false
		}
	}
	return true
}

// Docker is what credentials.Get writes for serverURL, user and secret,
// all JSONPlain: json.Encoder's encoding of a credentials.Credentials.
func Docker(serverURL, user, secret string) string {
	return `{"ServerURL":"` + serverURL + `","Username":"` + user + `","Secret":"` + secret + "\"}\n"
}

// DockerURL returns the registry of docker's get request stdin: its
// single plain line, as credentials.Get reads it (it joins the lines of
// its input and trims them); ok is false for anything else.
func DockerURL(stdin []byte) (string, bool) {
	serverURL := strings.TrimSuffix(string(stdin), "\n")
	if serverURL == "" || !JSONPlain(serverURL) || strings.ContainsAny(serverURL, " \t\r\n\v\f") {
		return "", false
	}
	return serverURL, true
}

// ExecCredential is helper.WriteExecCredential's line for token, JSONPlain,
// valid until expires, in API version api.
func ExecCredential(api string, interactive bool, token string, expires int64) string {
	return `{"apiVersion":"` + api + `","kind":"ExecCredential","spec":{"interactive":` + strconv.FormatBool(interactive) +
		`},"status":{"expirationTimestamp":"` + time.Unix(expires, 0).UTC().Format(time.RFC3339) + `","token":"` + token + "\"}}\n"
}

// ExecInfo reads the value of $KUBERNETES_EXEC_INFO when it is what
// client-go's exec plugin runner writes (its JSON encoder's line, without
// the cluster's details), or empty, as helper.ParseExecInfo reads it: the
// API version to answer in, and whether kubectl lets the plugin interact.
// ok is false for anything else, which oidc-auth-core reads.
func ExecInfo(v string) (api string, interactive, ok bool) {
	v = strings.TrimSuffix(v, "\n")
	if strings.TrimSpace(v) == "" {
		return "client.authentication.k8s.io/v1", false, v == ""
	}
	rest, ok := strings.CutPrefix(v, `{"kind":"ExecCredential","apiVersion":"`)
	if !ok {
		return "", false, false
	}
	for _, api = range []string{"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"} {
		switch rest {
		case api + `","spec":{"interactive":false}}`:
			return api, false, true
		case api + `","spec":{"interactive":true}}`:
			return api, true, true
		}
	}
	return "", false, false
}

// JWTExpiry returns the exp claim of a JWT as helper.JWTExpiry reads it,
// when the payload is JSON in UTF-8 (scan.Valid) of a shape it reads as
// encoding/json does (tokenrec.ClaimLiteral) and exp is a number; ok is
// false for anything else.
func JWTExpiry(raw string) (int64, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return 0, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil || !scan.Valid(payload) {
		return 0, false
	}
	lit, ok := tokenrec.ClaimLiteral(payload, "exp")
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || f <= 0 || f > 1<<40 {
		return 0, false
	}
	return int64(f), true
}

// IDToken returns rec's ID token and its expiry when oidc-auth hands it to
// kubectl as it is, at now, for a login whose recorded issuer and redirect
// ports have passed flows.Config.Check (the caller's part): while its own
// exp allows, whatever is left of the access token (helper.KubectlToken),
// for a live login of an OpenID Provider whose redirect host is loopback.
// ok is false for anything else.
func IDToken(rec *tokenrec.Record, now time.Time) (token string, expires int64, ok bool) {
	// keyring finds no login once both its tokens are gone (Live), whatever
	// the ID token says.
	if !rec.Live(now) || rec.Odd || !rec.HasServer || rec.Issuer == "" || rec.Host != "" || rec.ClientID == "" || rec.IDToken == "" {
		return "", 0, false
	}
	switch rec.RedirectHost {
	case "", "127.0.0.1", "localhost", "[::1]":
	default:
		return "", 0, false
	}
	exp, ok := JWTExpiry(rec.IDToken)
	if !ok || now.Add(tokenrec.ValidityMargin).Unix() >= exp || !JSONPlain(rec.IDToken) {
		return "", 0, false
	}
	return rec.IDToken, exp, true
}
