package helper

import (
	"testing"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

// TestUnixOnly checks that every test file of the package not built for
// Windows says why, and on Windows lists each of its tests as skipped,
// with that reason.
func TestUnixOnly(t *testing.T) { testfs.UnixOnly(t) }
