// Adapted from github.com/zitadel/oidc example/server/exampleop (login.go,
// device.go; Copyright zitadel, Apache License 2.0): the login UI and the
// device verification page, reduced to automatic approval for TestUser
// without forms, and minimal forms for Options.ManualLogin.

package oidcop

import (
	"fmt"
	"html/template"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/op"
)

var loginForm = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html><head><title>Sign in</title></head><body>
<form method="POST" action="{{.Action}}">
<input type="hidden" name="authRequestID" value="{{.ID}}">
<p><label>Username <input name="username"></label></p>
<p><label>Password <input name="password" type="password"></label></p>
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
<button type="submit">Sign in</button>
</form></body></html>
`))

var deviceForm = template.Must(template.New("device").Parse(`<!DOCTYPE html>
<html><head><title>Connect a device</title></head><body>
<form method="{{if .Manual}}POST{{else}}GET{{end}}" action="{{.Action}}">
<p><label>Code <input name="user_code" value="{{.UserCode}}"></label></p>
{{if .ClientID}}<p>{{.ClientID}} asks for {{range .Scopes}}{{.}} {{end}}</p>{{end}}
{{if .Manual}}<p><label>Username <input name="username"></label></p>
<p><label>Password <input name="password" type="password"></label></p>
<button type="submit" name="action" value="allow">Allow</button>
<button type="submit" name="action" value="deny">Deny</button>
{{else}}<button type="submit">Continue</button>{{end}}
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
</form></body></html>
`))

// login is the login UI: it logs TestUser in at once and redirects back to
// the authorization callback, or with Options.ManualLogin shows a form.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := r.Form.Get("authRequestID")
	if id == "" {
		http.Error(w, "missing authRequestID", http.StatusBadRequest)
		return
	}
	tu := testUser
	u := &tu
	if p.opts.ManualLogin {
		if r.Method != http.MethodPost {
			p.renderLogin(w, id, "", http.StatusOK)
			return
		}
		var err error
		if u, err = checkPassword(r.PostForm.Get("username"), r.PostForm.Get("password")); err != nil {
			p.renderLogin(w, id, err.Error(), http.StatusUnauthorized)
			return
		}
	}
	if err := p.storage.completeLogin(id, u); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(p.op)(r.Context(), id), http.StatusSeeOther)
}

func (p *Provider) renderLogin(w http.ResponseWriter, id, msg string, status int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = loginForm.Execute(w, struct{ Action, ID, Error string }{p.opts.IssuerPath + LoginPath, id, msg})
}

// deviceVerification is the verification_uri. GET with user_code approves
// the device as TestUser (so opening verification_uri_complete suffices);
// with Options.ManualLogin it shows a form to sign in and allow or deny.
func (p *Provider) deviceVerification(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	code := r.Form.Get("user_code")
	if code == "" {
		p.renderDevice(w, code, "", http.StatusOK)
		return
	}
	if !p.opts.ManualLogin {
		if err := p.ApproveDevice(code); err != nil {
			p.renderDevice(w, code, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "Device approved for %s. You can return to your device.\n", TestUser)
		return
	}
	if r.Method != http.MethodPost {
		p.renderDevice(w, code, "", http.StatusOK)
		return
	}
	if _, err := checkPassword(r.PostForm.Get("username"), r.PostForm.Get("password")); err != nil {
		p.renderDevice(w, code, err.Error(), http.StatusUnauthorized)
		return
	}
	var err error
	answer := "approved"
	if r.PostForm.Get("action") == "deny" {
		answer = "denied"
		err = p.DenyDevice(code)
	} else {
		err = p.ApproveDevice(code)
	}
	if err != nil {
		p.renderDevice(w, code, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "Device %s. You can return to your device.\n", answer)
}

func (p *Provider) renderDevice(w http.ResponseWriter, code, msg string, status int) {
	data := struct {
		Action, UserCode, Error, ClientID string
		Scopes                            []string
		Manual                            bool
	}{Action: p.opts.IssuerPath + DeviceVerificationPath, UserCode: code, Error: msg, Manual: p.opts.ManualLogin}
	if code != "" && msg == "" {
		var err error
		if data.ClientID, data.Scopes, err = p.storage.deviceClientAndScopes(code); err != nil {
			data.Error = err.Error()
			status = http.StatusBadRequest
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = deviceForm.Execute(w, data)
}
