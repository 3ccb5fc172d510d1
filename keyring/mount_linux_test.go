package keyring_test

import (
	"syscall"
	"testing"
)

// mountTmpfs mounts a private tmpfs of size bytes at dir, unmounted at the
// end of the test. It needs root (CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, dir, size string) error {
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size="+size+",mode=0700"); err != nil {
		return err
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return nil
}

// remountReadOnly makes the tmpfs at dir read-only.
func remountReadOnly(dir string) error {
	return syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NODEV, "")
}
