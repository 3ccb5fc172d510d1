package main

import (
	"fmt"
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
		Name:         "status",
		Usage:        "list stored logins and their expiry",
		Flags:        []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON"}, storeFlag()},
		OnUsageError: onUsage,
		Action:       a.status,
	}
}

// statusEntry is one line of `status --json`; it never carries a token.
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
}

func (a *app) status(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef(c, "status takes no arguments")
	}
	_, entries, err := a.logins(c)
	if err != nil {
		return err
	}
	now := time.Now()
	list := make([]statusEntry, 0, len(entries))
	for _, e := range entries {
		host := e.Key
		switch {
		case e.Server != nil && e.Server.Host != "":
			host = e.Server.Host
		case e.Server != nil && e.Server.Issuer != "":
			host = flows.ConfigFromServer(e.Server).Name()
		}
		if host == "" {
			host = "(the token in $" + keyring.TokenFileEnv + ")"
		}
		list = append(list, statusEntry{
			Server:         e.Key,
			Host:           host,
			Store:          e.Backend,
			Valid:          e.Token.Valid(now),
			Expires:        e.Token.Expires,
			Refreshable:    e.Token.Refreshable(now),
			RefreshExpires: e.Token.RefreshExpires,
			User:           e.Token.Claims.User(),
		})
	}
	defer a.warnGitStorage(c)
	if c.Bool("json") {
		return writeJSON(a.stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(a.stderr, "No stored logins; run `oidc-auth login HOST` to add one.")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tSTORE\tACCESS TOKEN\tREFRESH TOKEN")
	for _, e := range list {
		access := "expired " + clock(time.Unix(e.Expires, 0))
		if e.Valid {
			access = "valid until " + clock(time.Unix(e.Expires, 0))
		}
		refresh := "none"
		switch {
		case e.Refreshable:
			refresh = "valid until " + clock(time.Unix(e.RefreshExpires, 0))
		case e.RefreshExpires != 0:
			refresh = "expired " + clock(time.Unix(e.RefreshExpires, 0))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Host, e.Store, access, refresh)
	}
	return tw.Flush()
}

// warnGitStorage warns, on stderr, about generic git credential helpers
// that run beside ours for the URLs of the config file's git entries.
func (a *app) warnGitStorage(c *cli.Context) {
	path, err := helper.ConfigPath()
	if err != nil {
		return
	}
	cfg, err := helper.LoadConfig(path)
	if err != nil {
		return
	}
	for _, s := range cfg.Servers {
		if strings.Contains(s.Match, "://") { // a URL prefix: git's, not a registry
			warnStorageHelpers(c.Context, a.stderr, s.Match)
		}
	}
}
