//go:build unix && !linux

package keyring

// mapPopulate is Linux's MAP_POPULATE, which other systems lack.
const mapPopulate = 0
