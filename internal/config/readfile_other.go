//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package config

import "os"

// readFile returns the content of the file at path, and release, to be
// called when nothing points into the content any more (see
// readfile_unix.go, which maps large files).
func readFile(path string) (b []byte, release func(), err error) {
	b, err = os.ReadFile(path)
	return b, func() {}, err
}
