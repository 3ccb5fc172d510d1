//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package config

import (
	"io"
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
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFREG && st.Size >= mapAbove && st.Size <= 1<<30 {
		if m, err := syscall.Mmap(fd, 0, int(st.Size), syscall.PROT_READ, syscall.MAP_SHARED); err == nil {
			return m, func() { syscall.Munmap(m) }, nil
		}
	}
	// Small, or not a regular file: read it from the descriptor already
	// open, in a buffer of the size os.ReadFile would give it.
	b = make([]byte, 0, max(st.Size, 0)+512)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, func() {}, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}
