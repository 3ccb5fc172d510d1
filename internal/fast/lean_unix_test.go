//go:build !windows

// Unix only: it runs the go command, which the Windows run under Wine does not have; it checks the commands' Windows build as well (GOOS=windows).

package fast

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// heavy are packages the small commands must not link, each with what it
// costs: their package inits run on every start of a command, whatever
// it is asked (BENCHMARKS.md), or they are the core's work.
var heavy = map[string]string{
	"net":                           "its package inits cost every start 0.15 ms; internal/storekey has host:port",
	"crypto/":                       "crypto/sha256 alone links Go's FIPS module, 0.2 ms a start; internal/sha256 hashes lock names",
	"github.com/godbus/dbus/v5":     "its inits and net cost every start 0.3 ms; internal/secretservice speaks D-Bus itself",
	"net/http":                      "the core's",
	"os/exec":                       "the commands exec the core with syscall.Exec (handoff)",
	"os/user":                       "the core's",
	"golang.org/x/oauth2":           "the core's",
	"github.com/coreos/go-oidc/v3":  "the core's",
	"github.com/zalando/go-keyring": "the core's",
	"github.com/urfave/cli/v2":      "the core's",
	"github.com/gofrs/flock":        "the core's",
	"sigs.k8s.io/yaml":              "the core's",
	"go.yaml.in/yaml/v3":            "the core's",
	"gopkg.in/yaml.v3":              "the core's",
}

// heavyOnLinux are packages the commands must not link on Linux, where
// they are internal/lean, a first stage that links no more than the
// smallest Go program needs; the core, which it execs for what it cannot
// answer, links them.
var heavyOnLinux = map[string]string{
	"os":                              "its init starts the finalizer goroutine and a thread, 0.1 ms a start; every importer of fmt and encoding/json pulls it in",
	"fmt":                             "it imports os",
	"encoding/json":                   "it imports fmt; jsonscan/scan checks an entry without it",
	"net/url":                         "it imports fmt; the core writes down what it decided of URLs (internal/memo)",
	"runtime/debug":                   "it imports os; tokenfile reaches SetPanicOnFault without it",
	"github.com/pelletier/go-toml/v2": "the config's answers come from the core's memo",
}

// TestCommandsLinkLittle checks what the small commands link, as the
// README builds them, for each system they are built for: none of the
// heavy packages, whose cost a cached get would pay without using them.
func TestCommandsLinkLittle(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command to list the commands' packages: %v", err)
	}
	for _, goos := range []string{"linux", "darwin", "windows", "freebsd"} {
		cmd := exec.Command(gobin, "list", "-deps", "-tags", "urfave_cli_no_docs", "-f", "{{.ImportPath}} {{join .Imports \" \"}}",
			"./cmd/git-credential-oidc", "./cmd/docker-credential-oidc", "./cmd/oidc-auth")
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("GOOS=%s go list: %v", goos, err)
		}
		importers := map[string][]string{}
		for line := range strings.Lines(string(out)) {
			pkg, imports, _ := strings.Cut(strings.TrimSpace(line), " ")
			for _, imp := range strings.Fields(imports) {
				importers[imp] = append(importers[imp], pkg)
			}
		}
		for line := range strings.Lines(string(out)) {
			pkg, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			for prefix, why := range heavy {
				if pkg == prefix || strings.HasSuffix(prefix, "/") && strings.HasPrefix(pkg, prefix) {
					t.Errorf("GOOS=%s: the commands link %s (imported by %s): %s", goos, pkg, strings.Join(importers[pkg], ", "), why)
				}
			}
			if why, ok := heavyOnLinux[pkg]; ok && goos == "linux" {
				t.Errorf("GOOS=linux: the commands link %s (imported by %s): %s", pkg, strings.Join(importers[pkg], ", "), why)
			}
		}
	}
}
