package integration

import "syscall"

// mountTmpfs mounts a small tmpfs on dir (root only) and returns its
// unmount.
func mountTmpfs(dir string) (func(), error) {
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0700"); err != nil {
		return nil, err
	}
	return func() { syscall.Unmount(dir, syscall.MNT_DETACH) }, nil
}
