package fast

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/internal/testfs"
	"github.com/oidc-auth/oidc-auth/internal/tokenfile"
	"github.com/oidc-auth/oidc-auth/internal/tokenrec"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// scenario is a token file, a config and a request.
type scenario struct {
	name    string
	config  string // the config file; "" for none
	entries string // the token file's members, without the braces
	req     string // git's request, or docker's registry
	// answers says whether the cached path must answer: the common cases
	// must not be left to oidc-auth-core.
	answers bool
}

// member is a token file member for key with a token valid until exp.
func member(key, access string, exp int64, extra string) string {
	return fmt.Sprintf(`%q: {"token": {"access_token": %q, "token_type": "Bearer", "expires": %d, "refresh_token": "r", "refresh_expires": %d, "scope": "openid"}, "stored_at": 1700000000.25%s}`,
		key, access, exp, exp+3600, extra)
}

func gitReq(lines ...string) string {
	return "protocol=https\nhost=git.example.org\npath=team/app.git\n" + strings.Join(lines, "") + "\n"
}

func scenarios(now int64) []scenario {
	valid, soon, gone := now+3600, now+30, now-10
	team := "[[server]]\nmatch = \"https://git.example.org/team/\"\nhost = \"https://auth.example.org\"\n"
	login := member("https://auth.example.org", "tok-A", valid, `, "server": {"host": "https://auth.example.org"}`)
	return []scenario{
		{name: "config entry, plain git", config: team, entries: login, req: gitReq(), answers: true},
		{name: "git sends a username", config: team, entries: login, req: gitReq("username=alice\n"), answers: true},
		{name: "entry names the username", config: team + "username = \"ci-bot\"\n", entries: login, req: gitReq("username=alice\n"), answers: true},
		{name: "authtype, no challenge", config: team, entries: login, req: gitReq("capability[]=authtype\n"), answers: true},
		{name: "authtype, Bearer challenge", config: team, entries: login, req: gitReq("capability[]=authtype\n", "wwwauth[]=Bearer realm=\"x\"\n"), answers: true},
		{name: "auth = bearer", config: team + "auth = \"Bearer\"\n", entries: login, req: gitReq("capability[]=authtype\n"), answers: true},
		{name: "auth = basic, Bearer challenge", config: team + "auth = \"basic\"\n", entries: login, req: gitReq("capability[]=authtype\n", "wwwauth[]=Bearer\n"), answers: true},
		{name: "float expiry", config: team, entries: fmt.Sprintf(`"https://auth.example.org": {"token": {"access_token": "tok-F", "expires": %d.75}}`, valid), req: gitReq(), answers: true},
		{name: "reference client's entry, no server", config: team, entries: member("https://auth.example.org", "tok-R", valid, ""), req: gitReq(), answers: true},
		{name: "many logins", config: team, entries: manyEntries(valid) + "," + login, req: gitReq(), answers: true},
		{name: "stored login, no config", entries: member("https://git.example.org", "tok-S", valid, `, "server": {"host": "https://git.example.org", "username": "bob"}`), req: gitReq(), answers: true},
		{name: "stored login with a path prefix", entries: member("https://git.example.org", "tok-P", valid, `, "server": {"host": "https://git.example.org/team"}`), req: gitReq(), answers: true},
		{name: "stored login of another path", entries: member("https://git.example.org", "tok-O", valid, `, "server": {"host": "https://git.example.org/other"}`), req: gitReq()},
		{name: "issuer entry", config: "[[server]]\nmatch = \"https://git.example.org/\"\nissuer = \"https://idp.example.org/realms/x\"\nclient_id = \"cli\"\n",
			entries: member("oidc+https://idp.example.org/realms/x?client_id=cli", "tok-I", valid, `, "server": {"issuer": "https://idp.example.org/realms/x", "client_id": "cli"}`), req: gitReq(), answers: true},
		{name: "username claim", config: "[[server]]\nmatch = \"https://git.example.org/\"\nissuer = \"https://idp.example.org/realms/x\"\nclient_id = \"cli\"\nusername_claim = \"email\"\n",
			entries: member("oidc+https://idp.example.org/realms/x?client_id=cli", "tok-C", valid, `, "claims": {"email": "c@example.org"}`), req: gitReq()},
		{name: "within the margin", config: team, entries: member("https://auth.example.org", "tok-M", soon, ""), req: gitReq()},
		{name: "expired", config: team, entries: member("https://auth.example.org", "tok-E", gone, ""), req: gitReq()},
		{name: "another host", config: team, entries: login, req: "protocol=https\nhost=other.example.org\npath=team/app.git\n\n"},
		{name: "no path", config: team, entries: login, req: "protocol=https\nhost=git.example.org\n\n"},
		{name: "dot segment", config: team, entries: login, req: "protocol=https\nhost=git.example.org\npath=team/../x\n\n"},
		{name: "no login", config: team, entries: member("https://elsewhere.example.org", "x", valid, ""), req: gitReq()},
		{name: "key in another case", config: team, entries: `"https://auth.example.org": {"Token": {"access_token": "tok-K", "expires": ` + fmt.Sprint(valid) + `}}`, req: gitReq()},
		{name: "escaped token", config: team, entries: `"https://auth.example.org": {"token": {"access_token": "tok\u002dX", "expires": ` + fmt.Sprint(valid) + `}}`, req: gitReq()},
		{name: "repeated token", config: team, entries: `"https://auth.example.org": {"token": {"access_token": "a", "expires": 1}, "token": {"access_token": "b", "expires": ` + fmt.Sprint(valid) + `}}`, req: gitReq()},
		{name: "expiry as a string", config: team, entries: `"https://auth.example.org": {"token": {"access_token": "a", "expires": "` + fmt.Sprint(valid) + `"}}`, req: gitReq()},
		{name: "bad config", config: team + "bogus = 1\n", entries: login, req: gitReq()},
		{name: "http host off loopback", config: "[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"http://auth.example.org\"\n", entries: login, req: gitReq()},
	}
}

func manyEntries(exp int64) string {
	var b strings.Builder
	for i := range 1000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(member(fmt.Sprintf("https://h%d.example.org", i), fmt.Sprintf("t%d", i), exp, `, "server": {"host": "https://h`+fmt.Sprint(i)+`.example.org", "redirect_ports": [8080]}`))
	}
	return b.String()
}

// setUp writes sc's files and points the environment at them.
func setUp(t testing.TB, sc scenario) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.json")
	if err := os.WriteFile(tokens, []byte("{"+sc.entries+"}"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	if sc.config != "" {
		if err := os.WriteFile(cfg, []byte(sc.config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{
		"OIDC_TOKEN_FILE": tokens, "OIDC_AUTH_CONFIG": cfg, "OIDC_AUTH_STORE": "", "OIDC_AUTH_DEBUG": "", "OIDC_AUTH_HOST": "",
		"OIDC_AUTH_LOCK_TIMEOUT": "", "XDG_CACHE_HOME": dir, "XDG_CONFIG_HOME": dir, "HOME": dir,
	} {
		t.Setenv(k, v)
	}
}

func TestUnixOnly(t *testing.T) { testfs.UnixOnly(t) }

// TestGitAsTheHelper checks that every answer of the cached path is the
// helper's own, byte for byte, and that the common cases are answered.
func TestGitAsTheHelper(t *testing.T) {
	n := time.Now().Unix()
	for _, sc := range scenarios(n) {
		if !readsFiles {
			sc.answers = false // oidc-auth-core answers everything here
		}
		t.Run(sc.name, func(t *testing.T) {
			setUp(t, sc)
			checkAsTheHelper(t, sc)
		})
	}
}

// checkAsTheHelper runs Git on sc's request in the world set up for it,
// and checks that it answers when sc says it must, and that what it
// answers is the helper's own answer, byte for byte.
func checkAsTheHelper(t *testing.T, sc scenario) {
	t.Helper()
	defer releaseGate()
	var got bytes.Buffer
	answered, err := Git([]byte(sc.req), &got)
	if err != nil {
		t.Fatal(err)
	}
	if answered != sc.answers {
		t.Fatalf("answered = %v, want %v (output %q)", answered, sc.answers, got.String())
	}
	if !answered {
		if got.Len() > 0 {
			t.Fatalf("wrote %q without answering", got.String())
		}
		return
	}
	var log bytes.Buffer
	h, err := helper.Open("git-credential-oidc", &log)
	if err != nil {
		t.Fatal(err)
	}
	h.Terminal = nil
	var want bytes.Buffer
	if err := h.GitGet(context.Background(), strings.NewReader(sc.req), &want); err != nil {
		t.Fatalf("helper: %v (%s)", err, log.String())
	}
	if got.String() != want.String() {
		t.Fatalf("cached path wrote\n%q\nthe helper\n%q", got.String(), want.String())
	}
}

// TestMirroredSettings: the package keeps its own copies of settings of
// flows and keyring, which it does not link; they must be the same.
func TestMirroredSettings(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"tokenrec.ValidityMargin", tokenrec.ValidityMargin, flows.ValidityMargin},
		{"tokenrec.StoreMargin", time.Duration(tokenrec.StoreMargin) * time.Second, flows.StoreMargin},
		{"tokenfile.RefreshWait", tokenfile.RefreshWait, flows.DefaultLockTimeout},
		{"keychainService", keychainService, keyring.DefaultAppName},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, the original is %v", c.name, c.got, c.want)
		}
	}
}
