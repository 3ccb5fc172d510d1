package fast

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/config"
	"github.com/oidc-auth/oidc-auth/internal/gitproto"
	"github.com/oidc-auth/oidc-auth/internal/storekey"
	"github.com/oidc-auth/oidc-auth/internal/tokenrec"
)

// found is a server that answers a request, with its valid token.
type found struct {
	server     *config.Server
	configured bool // an entry of the config file, not one a login made
	rec        *tokenrec.Record
}

// resolve finds the server that answers t and its valid token, as the
// helpers' resolve and token do on their cached path: the most specific
// config entry, else the stored login of t's scheme and host.
func resolve(t config.Target) (*found, bool) {
	src, ok := sources()
	if !ok {
		return nil, false
	}
	entry, ok := match(t)
	if !ok {
		return nil, false
	}
	if entry != nil {
		key, err := entry.Key()
		if err != nil {
			return nil, false
		}
		rec, ok := cached(src, key, entry.Host)
		return &found{server: entry, configured: true, rec: rec}, ok
	}
	key, err := t.LoginKey()
	if err != nil {
		return nil, false
	}
	rec, ok := src.lookup(key)
	if !ok {
		return nil, false
	}
	s, ok := config.LoginServer(key, rec.Host, t)
	if !ok {
		return nil, false
	}
	if rec.Host != "" {
		s.Username = rec.Username
	}
	r, ok := fresh(src, key, s.Host, rec, true)
	return &found{server: &s, rec: r}, ok
}

// username is the username handed out with the token (helper's username):
// ok is false when it would come from the login's claims, which the cached
// answer does not read.
func (f *found) username() (string, bool) {
	switch {
	case f.server.Username != "":
		return f.server.Username, true
	case f.server.UsernameClaim != "":
		return "", false
	}
	return config.DefaultUsername, true
}

// Git answers git's "get" request in stdin as git-credential-oidc does,
// when the token is cached (see the package documentation). It reports
// whether it answered; err is the error of writing the answer, after which
// the command must not hand over (part of an answer may be out).
func Git(stdin []byte, stdout io.Writer) (answered bool, err error) {
	req, perr := gitproto.ParseRequest(bytes.NewReader(stdin))
	if perr != nil {
		return false, nil
	}
	t, ok := config.GitTarget(req.Get("protocol"), req.Get("host"), req.Get("path"))
	if !ok {
		return false, nil
	}
	f, ok := resolve(t)
	if !ok {
		return false, nil
	}
	user, ok := f.username()
	if !ok {
		return false, nil
	}
	answer := gitproto.Answer(req, user, f.configured && f.server.Username != "", f.server.Auth, f.rec.Access, f.rec.Expires)
	_, err = io.WriteString(stdout, answer)
	return true, err
}

// Docker answers docker's "get" request in stdin (a registry) as
// docker-credential-oidc does, when the token is cached; it reports
// whether it answered, and the error of writing the answer (see Git).
func Docker(stdin []byte, stdout io.Writer) (answered bool, err error) {
	// credentials.Get joins the lines of its input and trims it; a single
	// plain line is all this answers.
	serverURL := strings.TrimSuffix(string(stdin), "\n")
	if serverURL == "" || !jsonPlain(serverURL) || strings.ContainsAny(serverURL, " \t\r\n\v\f") {
		return false, nil
	}
	t, ok := config.DockerTarget(serverURL)
	if !ok || t.Scheme != "http" && dockerHub(t.Host) {
		return false, nil // Docker Hub's several names are oidc-auth-core's
	}
	f, ok := resolve(t)
	if !ok {
		return false, nil
	}
	user, ok := f.username()
	if !ok || !jsonPlain(user) || !jsonPlain(f.rec.Access) {
		return false, nil
	}
	// What credentials.Get writes: json.Encoder's encoding of a
	// credentials.Credentials, whose strings here need no escapes.
	_, err = io.WriteString(stdout, `{"ServerURL":"`+serverURL+`","Username":"`+user+`","Secret":"`+f.rec.Access+"\"}\n")
	return true, err
}

// dockerHub reports whether host is one of Docker Hub's names (helper's
// dockerHubHosts).
func dockerHub(host string) bool {
	return host == "index.docker.io" || host == "docker.io" || host == "registry-1.docker.io"
}

// jsonPlain reports whether encoding/json writes s as it is between
// quotes: printable ASCII without '"', '\\', '<', '>' and '&' (which
// json.Encoder escapes for HTML).
func jsonPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || strings.IndexByte(`"\<>&`, c) >= 0 {
			return false
		}
	}
	return true
}

// Token answers `oidc-auth token HOST` as oidc-auth does, when the token
// is cached; args are the arguments after the program's name. It reports
// whether it answered, and the error of writing the answer (see Git).
func Token(args []string, stdout io.Writer) (answered bool, err error) {
	if len(args) != 2 || args[0] != "token" {
		return false, nil
	}
	rec, ok := serverToken(args[1])
	if !ok {
		return false, nil
	}
	_, err = io.WriteString(stdout, rec.Access+"\n")
	return true, err
}

// Kubectl answers kubectl's credential plugin as oidc-auth does, when the
// token is cached: the ExecCredential, in the API version
// $KUBERNETES_EXEC_INFO asks for (see helper.WriteExecCredential), of a
// py-oidc-auth server's access token (`oidc-auth kubectl HOST`) or of an
// OpenID Provider's ID token (`oidc-auth kubectl --issuer URL --client-id
// ID`, as `oidc-auth setup kubectl` writes it). It answers only for the
// exec information client-go sends, or none; --access-token, a cluster's
// details and anything else go to oidc-auth-core. It reports whether it
// answered, and the error of writing the answer (see Git).
func Kubectl(args []string, stdout io.Writer) (answered bool, err error) {
	if len(args) < 2 || args[0] != "kubectl" {
		return false, nil
	}
	api, interactive, ok := execInfo(os.Getenv("KUBERNETES_EXEC_INFO"))
	if !ok {
		return false, nil
	}
	var token string
	var expires int64
	switch {
	case len(args) == 2:
		rec, ok := serverToken(args[1])
		if !ok {
			return false, nil
		}
		token, expires = rec.Access, rec.Expires
	case len(args) == 5 && args[1] == "--issuer" && args[3] == "--client-id":
		// As `oidc-auth setup kubectl` writes it for an OpenID Provider.
		if token, expires, ok = providerIDToken(args[2], args[4]); !ok {
			return false, nil
		}
	default:
		return false, nil
	}
	if !jsonPlain(token) {
		return false, nil
	}
	_, err = io.WriteString(stdout, `{"apiVersion":"`+api+`","kind":"ExecCredential","spec":{"interactive":`+strconv.FormatBool(interactive)+
		`},"status":{"expirationTimestamp":"`+time.Unix(expires, 0).UTC().Format(time.RFC3339)+`","token":"`+token+"\"}}\n")
	return true, err
}

// providerIDToken returns the stored ID token of the OpenID Provider's
// client that `oidc-auth kubectl --issuer ISSUER --client-id ID` names,
// and its expiry, when oidc-auth hands it to kubectl as it is: while its
// own exp allows, whatever is left of the access token
// (helper.KubectlToken), and only when the login's recorded settings pass
// the core's checks (flows.Config.Check). ok is false for anything else.
func providerIDToken(issuer, clientID string) (token string, expires int64, ok bool) {
	issuer = strings.TrimSpace(issuer)
	src, ok := sources()
	if issuer == "" || strings.HasPrefix(issuer, "-") || clientID == "" || strings.HasPrefix(clientID, "-") || !ok ||
		strings.TrimSpace(os.Getenv("OIDC_AUTH_LOCK_TIMEOUT")) != "" {
		return "", 0, false
	}
	key, err := storekey.IssuerKey(issuer, clientID)
	if err != nil {
		return "", 0, false
	}
	// keyring finds no login once both its tokens are gone (live), whatever
	// the ID token says.
	rec, ok := src.lookup(key)
	if !ok || !rec.Live(time.Now()) || rec.Odd || !rec.HasServer || rec.Issuer == "" || rec.Host != "" || rec.ClientID == "" || rec.IDToken == "" {
		return "", 0, false
	}
	switch rec.RedirectHost {
	case "", "127.0.0.1", "localhost", "[::1]":
	default:
		return "", 0, false
	}
	if !httpURL(strings.TrimSpace(rec.Issuer), rec.RedirectPorts) {
		return "", 0, false
	}
	exp, ok := jwtExpiry(rec.IDToken)
	if !ok || time.Now().Add(tokenrec.ValidityMargin).Unix() >= exp {
		return "", 0, false
	}
	return rec.IDToken, exp, true
}

// jwtExpiry returns the exp claim of a JWT as helper.JWTExpiry reads it,
// when the payload is of a shape it reads as encoding/json does (see
// decoder.object) and exp is a number; ok is false for anything else.
func jwtExpiry(raw string) (int64, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return 0, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil || !json.Valid(payload) {
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

// execInfo reads the value of $KUBERNETES_EXEC_INFO when it is what
// client-go's exec plugin runner writes (its JSON encoder's line, without
// the cluster's details), or empty, as helper.ParseExecInfo reads it: the
// API version to answer in, and whether kubectl lets the plugin interact.
// ok is false for anything else, which oidc-auth-core reads.
func execInfo(v string) (api string, interactive, ok bool) {
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

// serverToken returns the stored login of the py-oidc-auth server at
// host, the argument of `oidc-auth token` and `oidc-auth kubectl`, when
// its token is valid and may be handed out as those commands hand it out.
func serverToken(arg string) (*tokenrec.Record, bool) {
	if strings.HasPrefix(arg, "-") {
		return nil, false
	}
	host := strings.TrimSpace(arg)
	src, ok := sources()
	if host == "" || !ok || strings.TrimSpace(os.Getenv("OIDC_AUTH_LOCK_TIMEOUT")) != "" {
		return nil, false
	}
	key, err := storekey.Key(host)
	if err != nil {
		return nil, false
	}
	rec, ok := cached(src, key, host)
	if !ok || rec.Issuer != "" || !serverURL(rec, host) {
		return nil, false
	}
	return rec, true
}

// serverURL reports whether the server that rec was obtained from (its
// recorded URL, else host) passes flows.Config.Check, as the token command
// checks it before it hands out a stored token: an http(s) URL with a host
// and no user, query or fragment, plain http only on loopback, redirect
// ports in range.
func serverURL(rec *tokenrec.Record, host string) bool {
	h := host
	if rec.Host != "" {
		h = rec.Host
	}
	return httpURL(storekey.WithScheme(h), rec.RedirectPorts)
}

// httpURL reports whether raw is a server URL that flows.Config.Check
// passes, with redirect ports ports: an http(s) URL with a host and no
// user, query or fragment, plain http only on loopback, the ports in
// range.
func httpURL(raw string, ports []int) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	if u.Scheme == "http" && !storekey.IsLoopback(u.Hostname()) {
		return false
	}
	for _, p := range ports {
		if p <= 0 || p > 65535 {
			return false
		}
	}
	return true
}
