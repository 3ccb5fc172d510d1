//go:build windows

package keyring_test

import "syscall"

// underWine reports whether the test runs under Wine rather than Windows:
// Wine's ntdll exports wine_get_version, which Windows' does not.
func underWine() bool {
	dll, err := syscall.LoadDLL("ntdll.dll")
	if err != nil {
		return false
	}
	defer dll.Release()
	_, err = dll.FindProc("wine_get_version")
	return err == nil
}
