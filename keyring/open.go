package keyring

import "os"

// DefaultAppName is the application name that names the token file's
// directory (and, for the keychain, the service) when the caller gives none.
const DefaultAppName = "oidc-auth"

// TokenFileEnv names the environment variable that points all token storage
// at one JSON file, for batch jobs and CI.
const TokenFileEnv = "OIDC_TOKEN_FILE"

// Options chooses a store, like the reference client's
// TokenStore(path=…, app_name=…). The zero value is the default store.
type Options struct {
	// Path is an explicit token file. When empty, $OIDC_TOKEN_FILE is used,
	// else the application's default file (DefaultFilePath).
	Path string
	// AppName names the application; default DefaultAppName.
	AppName string
}

// Open returns the store that opts select.
func Open(opts Options) (TokenStore, error) {
	path := opts.Path
	if path == "" {
		path = os.Getenv(TokenFileEnv)
	}
	if path == "" {
		p, err := DefaultFilePath(opts.AppName)
		if err != nil {
			return nil, err
		}
		path = p
	}
	return &FileStore{Path: path}, nil
}
