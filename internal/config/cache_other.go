//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package config

// cacheAbove is the config size from which LoadMatch caches its answers:
// never here. The cache (cache_unix.go) is used only where a file's owner
// and mode say that it is private.
var cacheAbove = -1

// cacheKey says which config content an answer belongs to (unused here).
type cacheKey struct{}

func contentKey(Sum) (cacheKey, bool)                         { return cacheKey{}, false }
func lookupMatch(string, cacheKey, Target) (*Server, bool)    { return nil, false }
func storeMatch(path string, k cacheKey, t Target, s *Server) {}
