package oidcauth

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/oidc-auth/oidc-auth/helper"
)

// warnStorageHelpers tells the person about credential helpers that git
// runs for url besides ours and that may keep the short-lived token: git
// sends them every credential it used. git 2.46 and later mark our answer
// ephemeral, which store and cache honour; other helpers, and every helper
// under an older git, may keep it, store in clear text. It says nothing
// when git is not installed or the list has none.
func warnStorageHelpers(ctx context.Context, w io.Writer, url string) {
	if _, err := exec.LookPath("git"); err != nil {
		return
	}
	others, err := helper.StorageHelpers(ctx, url)
	if err != nil || len(others) == 0 {
		return
	}
	release, err := helper.GitVersion(ctx)
	marked := err == nil && release.AtLeast(2, 46)
	for _, h := range others {
		if marked && (h.Name == "store" || h.Name == "cache") {
			continue // they keep nothing that git marks ephemeral
		}
		where := "before"
		if h.AfterOurs {
			where = "after"
		}
		keeps := "may keep the short-lived token and hand it out after `oidc-auth logout`"
		if h.Name == "store" {
			keeps = "keeps the short-lived token in clear text in ~/.git-credentials and hands it out after `oidc-auth logout`"
		}
		if !marked && err == nil {
			keeps += " (git " + release.String() + " cannot tell it not to; git 2.46 and later can)"
		}
		fmt.Fprintf(w, "Warning: git also runs the credential helper %q %s ours for %s; it %s.", h.Name, where, url, keeps)
		if h.Remedy != "" {
			fmt.Fprintf(w, " To remove it: %s", strings.TrimSpace(h.Remedy))
		}
		fmt.Fprintln(w)
	}
}
