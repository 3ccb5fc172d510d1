//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

// Unix only: Windows reads the config file whole; only the Unix systems map it.

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMappedFileCutShort reads a mapped config that another program cuts
// short under the mapping, as an editor that rewrites the file in place
// would: the read is an error that says to try again, not a crash.
func TestMappedFileCutShort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(manyServers(1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	b, release, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	err = guardFault(path, func() error {
		return eachServer(path, b, nil, func(int, *Server) {})
	})
	if err == nil || !strings.Contains(err.Error(), "changed while it was read; try again") {
		t.Fatalf("reading a file cut short under its mapping: %v", err)
	}
}
