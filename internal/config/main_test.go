package config

import (
	"fmt"
	"os"
	"testing"
)

// TestMain keeps the tests' match caches out of the user's cache
// directory: LoadMatch of a large config writes one.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "config-test-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
