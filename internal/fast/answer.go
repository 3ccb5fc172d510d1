package fast

import (
	"bytes"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/answer"
	"github.com/oidc-auth/oidc-auth/internal/config"
	"github.com/oidc-auth/oidc-auth/internal/gitproto"
	"github.com/oidc-auth/oidc-auth/internal/memo"
	"github.com/oidc-auth/oidc-auth/internal/storekey"
	"github.com/oidc-auth/oidc-auth/internal/tokenrec"
)

// found is a server that answers a request, with its valid token.
type found struct {
	server     *config.Server
	configured bool // an entry of the config file, not one a login made
	rec        *tokenrec.Record
	// What the memo of the answer needs (see note): the login's store key,
	// the config content it was found with, and whether the username is
	// the entry's server.username.
	key        string
	sum        config.Sum
	fromRecord bool
}

// resolve finds the server that answers t and its valid token, as the
// helpers' resolve and token do on their cached path: the most specific
// config entry, else the stored login of t's scheme and host.
func resolve(t config.Target) (*found, bool) {
	src, ok := sources()
	if !ok {
		return nil, false
	}
	entry, sum, ok := match(t)
	if !ok {
		return nil, false
	}
	if entry != nil {
		key, err := entry.Key()
		if err != nil {
			return nil, false
		}
		rec, ok := cached(src, key, entry.Host)
		return &found{server: entry, configured: true, rec: rec, key: key, sum: sum}, ok
	}
	key, err := t.LoginKey()
	if err != nil {
		return nil, false
	}
	rec, ok := find(src, key)
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
	return &found{server: &s, rec: r, key: key, sum: sum, fromRecord: rec.Host != ""}, ok
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
	fixed := f.configured && f.server.Username != ""
	answer := gitproto.Answer(req, user, fixed, f.server.Auth, f.rec.Access, f.rec.Expires)
	_, err = io.WriteString(stdout, answer)
	f.note(memo.Git(req.Get("protocol"), req.Get("host"), req.Get("path")), user, fixed, f.server.Auth)
	return true, err
}

// Docker answers docker's "get" request in stdin (a registry) as
// docker-credential-oidc does, when the token is cached; it reports
// whether it answered, and the error of writing the answer (see Git).
func Docker(stdin []byte, stdout io.Writer) (answered bool, err error) {
	serverURL, ok := answer.DockerURL(stdin)
	if !ok {
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
	if !ok || !answer.JSONPlain(user) || !answer.JSONPlain(f.rec.Access) {
		return false, nil
	}
	_, err = io.WriteString(stdout, answer.Docker(serverURL, user, f.rec.Access))
	f.note(memo.Docker(serverURL), user, false, "")
	return true, err
}

// dockerHub reports whether host is one of Docker Hub's names (helper's
// dockerHubHosts).
func dockerHub(host string) bool {
	return host == "index.docker.io" || host == "docker.io" || host == "registry-1.docker.io"
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
	noteToken(args[1], rec)
	return true, err
}

// noteToken writes down the decision of the answer rec to `oidc-auth
// token arg`, which `oidc-auth kubectl arg` shares (see found.note).
func noteToken(arg string, rec *tokenrec.Record) {
	if key, err := storekey.Key(strings.TrimSpace(arg)); err == nil {
		f := &found{rec: rec, key: key} // no config read: note reads its Sum
		f.note(memo.Token(arg), "", false, "")
	}
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
	api, interactive, ok := answer.ExecInfo(os.Getenv("KUBERNETES_EXEC_INFO"))
	if !ok {
		return false, nil
	}
	var token string
	var expires int64
	switch {
	case len(args) == 2:
		rec, ok := serverToken(args[1])
		if !ok || !answer.JSONPlain(rec.Access) {
			return false, nil
		}
		token, expires = rec.Access, rec.Expires
		defer noteToken(args[1], rec)
	case len(args) == 5 && args[1] == "--issuer" && args[3] == "--client-id":
		// As `oidc-auth setup kubectl` writes it for an OpenID Provider.
		f, ok := providerIDToken(args[2], args[4])
		if !ok {
			return false, nil
		}
		token, expires = f.rec.IDToken, f.expires
		defer f.note(memo.Issuer(args[2], args[4]), "", false, "")
	default:
		return false, nil
	}
	_, err = io.WriteString(stdout, answer.ExecCredential(api, interactive, token, expires))
	return true, err
}

// idFound is the login of providerIDToken, with the ID token's expiry.
type idFound struct {
	found
	expires int64
}

// providerIDToken returns the login of the OpenID Provider's client that
// `oidc-auth kubectl --issuer ISSUER --client-id ID` names, when oidc-auth
// hands its ID token to kubectl as it is (answer.IDToken), and only when
// the login's recorded settings pass the core's checks
// (flows.Config.Check). ok is false for anything else.
func providerIDToken(issuer, clientID string) (*idFound, bool) {
	issuer = strings.TrimSpace(issuer)
	src, ok := sources()
	if issuer == "" || strings.HasPrefix(issuer, "-") || clientID == "" || strings.HasPrefix(clientID, "-") || !ok ||
		strings.TrimSpace(os.Getenv("OIDC_AUTH_LOCK_TIMEOUT")) != "" {
		return nil, false
	}
	key, err := storekey.IssuerKey(issuer, clientID)
	if err != nil {
		return nil, false
	}
	rec, ok := find(src, key)
	if !ok || !httpURL(strings.TrimSpace(rec.Issuer), rec.RedirectPorts) {
		return nil, false
	}
	_, exp, ok := answer.IDToken(&rec, time.Now())
	if !ok {
		return nil, false
	}
	return &idFound{found{rec: &rec, key: key}, exp}, true
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
