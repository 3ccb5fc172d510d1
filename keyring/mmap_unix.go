//go:build unix

package keyring

import (
	"os"
	"syscall"
)

// mapMin is the size from which a store file is mapped, not read.
const mapMin = 64 << 10

// mapFile maps the first size bytes of f into memory, read-only, so that
// a lookup reads a large store from the page cache without copying it
// into a new heap buffer (whose page faults and garbage collection cost
// more than the scan). A file under mapMin bytes is not mapped: reading
// it costs less than the mapping. ok is false when it is not mapped; the
// caller then reads the file.
func mapFile(f *os.File, size int64) (b []byte, unmap func(), ok bool) {
	if size < mapMin || int64(int(size)) != size {
		return nil, nil, false
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_PRIVATE|mapPopulate)
	if err != nil {
		return nil, nil, false
	}
	return b, func() { syscall.Munmap(b) }, true
}
