package handoff

import (
	"testing"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

func TestUnixOnly(t *testing.T) { testfs.UnixOnly(t) }
