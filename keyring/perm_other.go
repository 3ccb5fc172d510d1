//go:build !unix

package keyring

import "io/fs"

// Windows (and the other platforms without Unix modes) has no owner and
// mode bits to check here, and its ACLs are not inspected: only the link
// checks run, an Lstat before each open, since there is no O_NOFOLLOW.

// openFlags go with every open of the token store, a lock file or the
// keychain marker; there are none to add here.
const openFlags = 0

// refusesLinks says that the open itself cannot refuse a link, so
// openNoFollow checks with Lstat first.
const refusesLinks = false

// writesHolders is false: Windows locks the first byte of a lock file
// against every other handle, so the holder cannot write its PID there, nor
// others read it; LockHolder then reports no holder.
const writesHolders = false

// checkPerm has no Unix modes to check here.
func checkPerm(string, fs.FileInfo, role) error { return nil }

// processAlive is not needed where holders are not written.
func processAlive(int) bool { return false }
