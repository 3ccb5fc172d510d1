//go:build !linux

package keyring_test

import (
	"errors"
	"testing"
)

// mountTmpfs cannot mount here; the tests inject the failure instead.
func mountTmpfs(*testing.T, string, string) error { return errors.ErrUnsupported }

// remountReadOnly cannot mount here.
func remountReadOnly(string) error { return errors.ErrUnsupported }
