// Package version says which build of oidc-auth is running, from the
// version a release build sets or the module's build information.
package version

import (
	"runtime/debug"
	"strings"
)

// String returns the version to report: override when the build set one
// (-ldflags "-X main.version=v1.2.3"), else the one the Go toolchain
// recorded in the binary (see FromBuildInfo), else "dev".
func String(override string) string {
	if override = strings.TrimSpace(override); override != "" {
		return override
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	return FromBuildInfo(bi)
}

// FromBuildInfo returns the version bi records: the main module's version
// when it has one ("go install …@v1.2.3" records v1.2.3, and a build in a
// checkout records a pseudo-version naming the commit), else "devel" with
// the version control revision and "+dirty" for uncommitted changes, else
// "dev".
func FromBuildInfo(bi *debug.BuildInfo) string {
	if bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var revision string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if revision == "" {
		return "dev"
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	v := "devel " + revision
	if modified {
		v += "+dirty"
	}
	return v
}
