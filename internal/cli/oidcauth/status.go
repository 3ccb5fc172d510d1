package oidcauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// statusCommand lists the stored logins.
func (a *app) statusCommand(onUsage cli.OnUsageErrorFunc, storeFlag func() cli.Flag) *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "list stored logins, their expiry, and the git and docker entries that use them",
		Description: "Prints a table of the stored logins: the server, its kind, the user, where the token\n" +
			"is stored, how long the access and refresh tokens are valid, and the git URLs and docker\n" +
			"registries that use the login. No token is ever printed. --json prints the same as a list.\n\n" +
			"Exit status: 0 when at least one login is valid or can be refreshed, 1 when there is\n" +
			"none (no stored login, or all of them expired), so that scripts can test for a login.",
		Flags:        []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON"}, storeFlag()},
		OnUsageError: onUsage,
		Action:       a.status,
	}
}

// Kinds of login, as status names them.
const (
	kindPyOIDCAuth = "py-oidc-auth"
	kindProvider   = "oidc provider"
	kindTokenFile  = "token file"
)

// statusEntry is one item of `status --json`; it never carries a token.
// The first eight fields are kept as they were for the scripts that read
// them; expiries are Unix seconds there.
type statusEntry struct {
	Server         string `json:"server"`
	Host           string `json:"host"`
	Store          string `json:"store"`
	Valid          bool   `json:"valid"`
	Expires        int64  `json:"expires"`
	Refreshable    bool   `json:"refreshable"`
	RefreshExpires int64  `json:"refresh_expires,omitempty"`
	// User is who the login's ID token names (standard providers only).
	User string `json:"user,omitempty"`

	// StoreKey is the key the login is stored under.
	StoreKey string `json:"store_key"`
	// ServerURL is the py-oidc-auth server URL with its path, or the
	// provider's issuer; "" for a bare token file.
	ServerURL string `json:"server_url"`
	// ClientID is a provider login's client.
	ClientID string `json:"client_id,omitempty"`
	// Kind is kindPyOIDCAuth, kindProvider or kindTokenFile.
	Kind string `json:"kind"`
	// StorePath is the token file, when Store is "file".
	StorePath string `json:"store_path,omitempty"`
	// AccessTokenExpiresAt is when the access token expires (RFC 3339),
	// "" when unknown.
	AccessTokenExpiresAt string `json:"access_token_expires_at,omitempty"`
	// AccessTokenValidForSeconds is how long the access token has left,
	// 0 once it has expired or when unknown.
	AccessTokenValidForSeconds int64 `json:"access_token_valid_for_seconds"`
	// RefreshTokenExpiresAt is when the refresh token expires (RFC 3339),
	// "" when there is none or it is unknown.
	RefreshTokenExpiresAt string `json:"refresh_token_expires_at,omitempty"`
	// RefreshTokenValidForSeconds is how long the refresh token has left.
	RefreshTokenValidForSeconds int64 `json:"refresh_token_valid_for_seconds"`
	// UsedBy are the git and docker entries that this login answers.
	UsedBy []statusUse `json:"used_by"`

	access, refresh string // the table's words
}

// statusUse is one git or docker entry that a login answers.
type statusUse struct {
	// Tool is "git" or "docker".
	Tool string `json:"tool"`
	// Target is the git URL or docker registry.
	Target string `json:"target"`
	// Source is where the entry is written.
	Source string `json:"source"`
}

func (a *app) status(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef(c, "status takes no arguments")
	}
	store, entries, err := a.logins(c)
	if err != nil {
		return err
	}
	cfg, _ := loadConfig() // doctor reports a broken config; status lists what it can
	list := statusEntries(entries, keyring.StoreFilePath(store), findUses(c.Context, cfg), time.Now())
	defer a.warnGitStorage(c)
	if auto, ok := store.(*keyring.AutoStore); ok {
		if err := auto.KeychainError(); err != nil {
			// The fallback warning is shown once; this is where the person
			// learns later where logins are read from and kept.
			reason := message(err)
			var ue *keyring.UnavailableError
			if errors.As(err, &ue) {
				reason = ue.Reason
			}
			fmt.Fprintf(a.stderr, "Note: the OS keychain cannot be used (%s), so only the logins in %s are listed, and new logins are stored there; set %s=file to skip the keychain.\n",
				flows.TerminalSafe(reason), auto.File.Path, keyring.StoreEnv)
		}
	}
	if c.Bool("json") {
		if err := writeJSON(a.stdout, list); err != nil {
			return err
		}
	} else if err := writeStatusTable(a.stdout, list); err != nil {
		return err
	}
	return noValidLogin(list)
}

// noValidLogin is the error of status when no login can give a token
// without a new login: exit 1, as `gh auth status` does.
func noValidLogin(list []statusEntry) error {
	if len(list) == 0 {
		return errors.New("no stored logins; run `oidc-auth login HOST` to log in (`oidc-auth doctor` checks the setup)")
	}
	for _, e := range list {
		if e.Valid || e.Refreshable {
			return nil
		}
	}
	if len(list) == 1 && list[0].Kind != kindTokenFile {
		return fmt.Errorf("the login to %s can no longer give a token, nor be refreshed; run `%s`", list[0].Host, loginCommand(list[0]))
	}
	return errors.New("no stored login can give a token, nor be refreshed; run `oidc-auth login HOST` again")
}

// loginCommand is the command that renews e's login.
func loginCommand(e statusEntry) string {
	if e.Kind == kindProvider {
		return flows.Config{Issuer: e.ServerURL, ClientID: e.ClientID}.LoginCommand()
	}
	return flows.Config{Host: e.ServerURL}.LoginCommand()
}

// loadConfig reads the helpers' config file; a missing one is empty.
func loadConfig() (*helper.Config, error) {
	path, err := helper.ConfigPath()
	if err != nil {
		return nil, err
	}
	return helper.LoadConfig(path)
}

// findUses collects the entries of the config file, of git's config and
// of docker's config.json that make git or docker ask our helpers. What
// cannot be read (no git, a broken file) adds nothing.
func findUses(ctx context.Context, cfg *helper.Config) []helper.Use {
	var uses []helper.Use
	if path, err := helper.ConfigPath(); err == nil {
		uses = append(uses, helper.ConfigUses(cfg, path)...)
	}
	if _, err := exec.LookPath("git"); err == nil {
		if g, err := helper.GitUses(ctx, cfg); err == nil {
			uses = append(uses, g...)
		}
	}
	if dir, err := helper.DockerConfigDir(); err == nil {
		if d, err := helper.DockerUses(cfg, dir); err == nil {
			uses = append(uses, d...)
		}
	}
	return uses
}

// statusEntries describes each login at now; filePath is the store's
// token file.
func statusEntries(entries []keyring.Entry, filePath string, uses []helper.Use, now time.Time) []statusEntry {
	list := make([]statusEntry, 0, len(entries))
	for _, e := range entries {
		tok := &e.Token
		s := statusEntry{
			Server:         e.Key,
			Host:           e.Key,
			Store:          e.Backend,
			Valid:          tok.Valid(now),
			Expires:        tok.Expires,
			Refreshable:    tok.Refreshable(now),
			RefreshExpires: tok.RefreshExpires,
			User:           tok.Claims.User(),
			StoreKey:       e.Key,
			ServerURL:      e.Key,
			Kind:           kindPyOIDCAuth,
			UsedBy:         []statusUse{},
		}
		switch {
		case e.Key == "":
			s.Kind, s.ServerURL = kindTokenFile, ""
			s.Host = "(the token in $" + keyring.TokenFileEnv + ")"
		case e.Server != nil && e.Server.Issuer != "":
			s.Kind, s.ServerURL, s.ClientID = kindProvider, e.Server.Issuer, e.Server.ClientID
			s.Host = flows.ConfigFromServer(e.Server).Name()
		case e.Server != nil && e.Server.Host != "":
			s.Host, s.ServerURL = e.Server.Host, e.Server.Host
		}
		if e.Backend == keyring.BackendFile {
			s.StorePath = filePath
		}
		if tok.AccessToken != "" && tok.Expires != 0 {
			s.AccessTokenExpiresAt = time.Unix(tok.Expires, 0).UTC().Format(time.RFC3339)
			s.AccessTokenValidForSeconds = max(0, tok.Expires-now.Unix())
		}
		if tok.RefreshToken != "" && tok.RefreshExpires != 0 {
			s.RefreshTokenExpiresAt = time.Unix(tok.RefreshExpires, 0).UTC().Format(time.RFC3339)
			s.RefreshTokenValidForSeconds = max(0, tok.RefreshExpires-now.Unix())
		}
		s.access, s.refresh = accessWords(tok, now), refreshWords(tok, now)
		seen := map[string]bool{}
		for _, u := range uses {
			id := u.Tool + " " + strings.TrimSuffix(u.Target, "/")
			if u.Login == "" || u.Login != e.Key || seen[id] {
				continue
			}
			seen[id] = true
			s.UsedBy = append(s.UsedBy, statusUse{Tool: u.Tool, Target: u.Target, Source: u.Source})
		}
		list = append(list, s)
	}
	return list
}

// accessWords says how long the access token has left. flows treats a
// token with less than flows.ValidityMargin left as due for a refresh, so
// such a token "expires in 30s" and is refreshed on next use; only a time
// in the past is "expired".
func accessWords(tok *flows.Token, now time.Time) string {
	next := ""
	if tok.Refreshable(now) {
		next = ", refreshed on next use"
	}
	switch left := time.Unix(tok.Expires, 0).Sub(now); {
	case tok.AccessToken == "":
		return "none" + next
	case tok.Expires == 0:
		return "no expiry known" + next
	case tok.Valid(now):
		return "valid for " + span(left)
	case left > 0:
		return "expires in " + span(left) + next
	default:
		return "expired " + span(-left) + " ago" + next
	}
}

// refreshWords says how long the refresh token has left.
func refreshWords(tok *flows.Token, now time.Time) string {
	switch left := time.Unix(tok.RefreshExpires, 0).Sub(now); {
	case tok.RefreshToken == "":
		return "none"
	case tok.RefreshExpires == 0:
		return "no expiry known"
	case tok.Refreshable(now):
		return "valid for " + span(left)
	case left > 0:
		return "expires in " + span(left)
	default:
		return "expired " + span(-left) + " ago"
	}
}

// span is a duration as people say it, rounded down to its largest
// unit: 30s, 42m, 5h, 29d.
func span(d time.Duration) string {
	switch {
	case d < 90*time.Second:
		return fmt.Sprintf("%ds", int64(d/time.Second))
	case d < 90*time.Minute:
		return fmt.Sprintf("%dm", int64(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int64(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int64(d/(24*time.Hour)))
}

// writeStatusTable prints the status table, then the path of the token
// file when a login is kept there (a path is too long for a column); every
// cell goes through flows.TerminalSafe, since stored names reach a
// terminal.
func writeStatusTable(w io.Writer, list []statusEntry) error {
	if len(list) == 0 {
		return nil
	}
	var paths []string
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tKIND\tUSER\tSTORE\tACCESS TOKEN\tREFRESH TOKEN\tUSED BY")
	for _, e := range list {
		user := e.User
		if user == "" {
			user = "-"
		}
		store := e.Store
		if e.StorePath != "" && !slices.Contains(paths, e.StorePath) {
			paths = append(paths, e.StorePath)
		}
		var used []string
		for _, u := range e.UsedBy {
			used = append(used, u.Tool+" "+u.Target)
		}
		if len(used) == 0 {
			used = []string{"-"}
		}
		cells := []string{e.Host, e.Kind, user, store, e.access, e.refresh, strings.Join(used, ", ")}
		for i := range cells {
			cells[i] = strings.ReplaceAll(flows.TerminalSafe(cells[i]), "\t", " ")
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range paths {
		if _, err := fmt.Fprintf(w, "\nfile: %s\n", flows.TerminalSafe(p)); err != nil {
			return err
		}
	}
	return nil
}

// warnGitStorage warns, on stderr, about generic git credential helpers
// that run beside ours for the URLs of the config file's git entries.
func (a *app) warnGitStorage(c *cli.Context) {
	cfg, err := loadConfig()
	if err != nil {
		return
	}
	for _, s := range cfg.Servers {
		if strings.Contains(s.Match, "://") { // a URL prefix: git's, not a registry
			warnStorageHelpers(c.Context, a.stderr, s.Match)
		}
	}
}
