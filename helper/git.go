package helper

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"strings"

	"github.com/oidc-auth/oidc-auth/internal/config"
	"github.com/oidc-auth/oidc-auth/internal/gitproto"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// GitRequest is one request of git's credential helper protocol
// (gitcredentials(7), "CUSTOM HELPERS"): key=value lines up to a blank
// line or the end of input. See gitproto.Request.
type GitRequest = gitproto.Request

// ParseGitRequest reads one request. Lines end in "\n" (a "\r" before it is
// dropped); unknown keys are kept and ignored by callers; a line without
// "=", a NUL byte, or a request over 64 KiB is an error.
func ParseGitRequest(r io.Reader) (*GitRequest, error) { return gitproto.ParseRequest(r) }

// Challenge is one challenge of an HTTP WWW-Authenticate field (RFC 9110
// §11.6.1): an auth-scheme with a token68 or with auth-params.
type Challenge = gitproto.Challenge

// ParseChallenges parses the value of a WWW-Authenticate field into its
// challenges (see gitproto.ParseChallenges).
func ParseChallenges(v string) ([]Challenge, error) { return gitproto.ParseChallenges(v) }

// validBasicUser reports whether a username can be sent to git (see
// gitproto.ValidBasicUser).
func validBasicUser(u string) bool { return gitproto.ValidBasicUser(u) }

// target is the Target a request asks for; ok is false when it names no
// http(s) host.
func gitRequestTarget(r *GitRequest) (Target, bool) {
	return config.GitTarget(r.Get("protocol"), r.Get("host"), r.Get("path"))
}

// GitGet answers git's "get" for a URL a server answers; when the URL is
// not ours, or no token can be had (no login and no terminal to log in
// from), it writes nothing, so that git asks its next helper, and leaves a
// note on Log.
//
// How the token is handed over depends on git and the server. A git
// without capability[]=authtype (before 2.46) gets username, password (the
// access token) and password_expiry_utc. A git with it gets the token as a
// credential git sends as is: "authtype=Bearer" when the server's Auth is
// AuthBearer, or AuthAuto and one of git's wwwauth[] challenges has the
// Bearer scheme; else "authtype=Basic" with the Basic credential of
// username and token (RFC 7617), which every server that reads the token as
// the Basic password takes. Either is marked ephemeral=1 and carries no
// password, so that generic storage helpers git also sends it to (store,
// cache) keep nothing. The username is the one git sent, from the URL or
// credential.username, unless the server's config entry names one.
func (h *Helper) GitGet(ctx context.Context, in io.Reader, out io.Writer) error {
	req, err := ParseGitRequest(in)
	if err != nil {
		return err
	}
	t, ok := gitRequestTarget(req)
	if !ok {
		return nil
	}
	r, err := h.resolve(ctx, t)
	if err != nil {
		h.explain(err)
		return nil
	}
	if r == nil {
		return nil
	}
	tok, err := h.token(ctx, r, "git needs a token for "+t.String())
	if err != nil {
		h.explain(err)
		return nil
	}
	_, err = io.WriteString(out, gitproto.Answer(req, username(r.server, tok), h.configured(r.server) && r.server.Username != "", r.server.Auth, tok.AccessToken, tok.Expires))
	return err
}

// configured reports whether s is an entry of the config file (rather than
// one resolve made from a stored login).
func (h *Helper) configured(s *Server) bool {
	for i := range h.Config.Servers {
		if s == &h.Config.Servers[i] {
			return true
		}
	}
	return false
}

// GitErase answers git's "erase", sent when a server rejected the
// credential: if the rejected token is the stored access token, the access
// token is dropped and the refresh token kept, so the next "get"
// refreshes. git names the token as the password, or (with
// capability[]=authtype) as the credential of authtype Bearer, or inside
// the credential of authtype Basic. A token that is not ours (or no longer
// ours) changes nothing.
func (h *Helper) GitErase(ctx context.Context, in io.Reader) error {
	req, err := ParseGitRequest(in)
	if err != nil {
		return err
	}
	t, ok := gitRequestTarget(req)
	password := rejectedToken(req)
	if !ok || password == "" {
		return nil
	}
	r, err := h.resolve(ctx, t)
	if err != nil || r == nil {
		return err
	}
	key, err := Flows(r.server).Key()
	if err != nil {
		return err
	}
	unlock, err := h.Store.Lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := h.Store.Get(ctx, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	if err != nil || rec.Token.AccessToken != password {
		return err
	}
	rec.Token.AccessToken, rec.Token.Expires, rec.Token.Headers = "", 0, nil
	return h.Store.Put(ctx, key, rec)
}

// rejectedToken returns the token an erase request names: the credential
// of authtype Bearer, the password inside the credential of authtype
// Basic, else the password; "" for none. A credential of another scheme
// is what git sent instead of a password, so the password then names
// nothing rejected.
func rejectedToken(req *GitRequest) string {
	if cred := req.Get("credential"); cred != "" {
		switch {
		case strings.EqualFold(req.Get("authtype"), "Bearer"):
			return cred
		case strings.EqualFold(req.Get("authtype"), "Basic"):
			b, err := base64.StdEncoding.DecodeString(cred)
			if err != nil {
				return ""
			}
			_, pass, ok := strings.Cut(string(b), ":")
			if !ok {
				return ""
			}
			return pass
		}
		return ""
	}
	return req.Get("password")
}
