package helper_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// ExampleParseConfig reads a config file and shows which URLs git gets a
// token for: the entry's prefix answers on segment boundaries, on the same
// scheme, host and port only.
func ExampleParseConfig() {
	cfg, err := helper.ParseConfig("config.toml", []byte(`
[[server]]
match = "https://git.example.org/team/"
host = "https://auth.example.org"
`))
	if err != nil {
		fmt.Println(err)
		return
	}

	// A stored login for the server, valid until 2100.
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	store := &keyring.FileStore{Path: filepath.Join(dir, "token-store.json")}
	err = store.Put(context.Background(), "https://auth.example.org", &keyring.Record{
		Token: keyring.Token{AccessToken: "example-token", TokenType: "Bearer", Expires: 4102444800},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	h := &helper.Helper{Config: cfg, Store: store}
	for _, raw := range []string{
		"https://git.example.org/team/app.git",
		"https://GIT.example.org:443/team/app.git",
		"https://git.example.org/teamevil/app.git",
		"https://git.example.org.evil.com/team/app.git",
		"http://git.example.org/team/app.git",
	} {
		u, _ := url.Parse(raw)
		req := fmt.Sprintf("protocol=%s\nhost=%s\npath=%s\n\n", u.Scheme, u.Host, strings.TrimPrefix(u.Path, "/"))
		var out strings.Builder
		if err := h.GitGet(context.Background(), strings.NewReader(req), &out); err != nil {
			fmt.Println(err)
			return
		}
		if out.Len() == 0 {
			fmt.Printf("%s: not answered\n", raw)
			continue
		}
		fmt.Printf("%s:\n%s", raw, out.String())
	}
	// Output:
	// https://git.example.org/team/app.git:
	// username=oauth2
	// password=example-token
	// password_expiry_utc=4102444800
	// https://GIT.example.org:443/team/app.git:
	// username=oauth2
	// password=example-token
	// password_expiry_utc=4102444800
	// https://git.example.org/teamevil/app.git: not answered
	// https://git.example.org.evil.com/team/app.git: not answered
	// http://git.example.org/team/app.git: not answered
}

// ExampleParseGitRequest reads the request git sends a credential helper.
func ExampleParseGitRequest() {
	req, err := helper.ParseGitRequest(strings.NewReader(
		"capability[]=authtype\nprotocol=https\nhost=git.example.org\npath=team/app.git\n\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Get("protocol"), req.Get("host"), req.Get("path"), req.Capable("authtype"))
	// Output:
	// https git.example.org team/app.git true
}
