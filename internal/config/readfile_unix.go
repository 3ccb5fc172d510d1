//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package config

import (
	"io/fs"
	"os"
	"syscall"
)

// readFile returns the content of the file at path, mapped when it is
// large, and release, to be called when nothing points into the content
// any more. The content may then fault when read (the file cut short
// under the mapping by a program that rewrites it in place): see
// guardFault.
func readFile(path string) (b []byte, release func(), err error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	for err == syscall.EINTR {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Size < mapAbove || st.Size > 1<<30 {
		// Small, or not a regular file: read it (os.ReadFile's errors).
		syscall.Close(fd)
		b, err := os.ReadFile(path)
		return b, func() {}, err
	}
	m, err := syscall.Mmap(fd, 0, int(st.Size), syscall.PROT_READ, syscall.MAP_SHARED)
	syscall.Close(fd)
	if err != nil {
		b, err := os.ReadFile(path)
		return b, func() {}, err
	}
	return m, func() { syscall.Munmap(m) }, nil
}
