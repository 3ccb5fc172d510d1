//go:build !linux

package integration

import "errors"

// mountTmpfs is Linux-only.
func mountTmpfs(string) (func(), error) {
	return nil, errors.ErrUnsupported
}
