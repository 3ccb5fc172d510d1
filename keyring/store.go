// Package keyring keeps OIDC tokens between runs: one record per auth
// server, stored under a normalised server key.
//
// The file backend writes the reference client's v1 JSON format, so a token
// store file is shared with py-oidc-auth-client.
//
// Where the files live (see DefaultFilePath and PythonFilePath):
//
//	                      our token file                       the Python client's
//	XDG_CACHE_HOME set    $XDG_CACHE_HOME/oidc-auth/           $XDG_CACHE_HOME/py-oidc-auth/
//	Linux, other Unix     ~/.cache/oidc-auth/                  ~/.cache/py-oidc-auth/
//	macOS                 ~/Library/Caches/oidc-auth/          ~/.cache/py-oidc-auth/
//	Windows               %LocalAppData%\oidc-auth\            %USERPROFILE%\.cache\py-oidc-auth\
//
// each holding token-store.json, with the lock files, the keychain-silent
// marker and the keychain-warned marker in .token-store.json.locks beside
// it. On macOS and Windows, a token file that an older release left in
// ~/.cache/oidc-auth is used until the platform's path holds one.
//
// On Windows, where a file that another process has open cannot be
// replaced, the store is read with delete access shared, and a rename or
// removal that a reader's open handle refuses for a moment is retried (see
// Rename and OpenShared), so that a reader does not make a writer lose a
// rotated login.
package keyring

import "github.com/oidc-auth/oidc-auth/flows"

// ErrNotFound is returned when a store holds no live record for a key
// (flows.ErrNotFound).
var ErrNotFound = flows.ErrNotFound

// Record is what a store keeps for one server (see flows.Record).
type Record = flows.Record

// Server records the server settings a token was obtained with (see
// flows.Server).
type Server = flows.Server

// Entry is one record of a store, with its key and the backend holding it
// (see flows.Entry).
type Entry = flows.Entry

// TokenStore is the interface every store of this package implements (see
// flows.TokenStore, where it is consumed).
type TokenStore = flows.TokenStore

// Key normalises a server URL into the key the reference client stores it
// under (see flows.Key).
//
//	Key("HTTPS://Auth.Example.org:443/api/app") == "https://auth.example.org"
func Key(server string) (string, error) { return flows.Key(server) }
