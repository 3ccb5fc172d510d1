package keyring

import "syscall"

// mapPopulate asks the kernel to map every page of a mapped file at once,
// instead of one page fault at a time.
const mapPopulate = syscall.MAP_POPULATE
