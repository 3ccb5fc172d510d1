// Adapted from github.com/zitadel/oidc example/server/storage (storage.go,
// oidc.go, token.go, user.go; Copyright zitadel, Apache License 2.0): the
// in-memory op.Storage. Changes: one user; copies instead of shared pointers
// (race-free); the device grant with the client id and the user id on its
// tokens; refresh-token families with rotation, reuse detection and
// revocation; configurable lifetimes; no JWT profile, client credentials or
// token exchange.

package oidcop

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// user is the one account of the provider.
type user struct {
	ID, Username, Password       string
	GivenName, FamilyName, Email string
	EmailVerified                bool
}

var testUser = user{
	ID:            TestSubject,
	Username:      TestUser,
	Password:      TestPassword,
	GivenName:     "Jane",
	FamilyName:    "Doe",
	Email:         TestEmail,
	EmailVerified: true,
}

// authRequest is an authorization request between /authorize and the token
// exchange of its code; it implements op.AuthRequest.
type authRequest struct {
	ID            string
	CreationDate  time.Time
	ApplicationID string
	CallbackURI   string
	TransferState string
	Prompt        []string
	UserID        string
	Scopes        []string
	ResponseType  oidc.ResponseType
	ResponseMode  oidc.ResponseMode
	Nonce         string
	CodeChallenge *oidc.CodeChallenge
	done          bool
	authTime      time.Time
}

func (a *authRequest) GetID() string  { return a.ID }
func (a *authRequest) GetACR() string { return "" }
func (a *authRequest) GetAMR() []string {
	if a.done {
		return []string{"pwd"}
	}
	return nil
}
func (a *authRequest) GetAudience() []string                 { return []string{a.ApplicationID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.ApplicationID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.CodeChallenge }
func (a *authRequest) GetNonce() string                      { return a.Nonce }
func (a *authRequest) GetRedirectURI() string                { return a.CallbackURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.ResponseMode }
func (a *authRequest) GetScopes() []string                   { return a.Scopes }
func (a *authRequest) GetState() string                      { return a.TransferState }
func (a *authRequest) GetSubject() string                    { return a.UserID }
func (a *authRequest) Done() bool                            { return a.done }

func (a *authRequest) clone() *authRequest {
	c := *a
	c.Prompt = slices.Clone(a.Prompt)
	c.Scopes = slices.Clone(a.Scopes)
	if a.CodeChallenge != nil {
		cc := *a.CodeChallenge
		c.CodeChallenge = &cc
	}
	return &c
}

// accessToken is an issued access token.
type accessToken struct {
	ID             string
	ApplicationID  string
	Subject        string
	RefreshTokenID string
	Family         string
	Audience       []string
	Expiration     time.Time
	Scopes         []string
}

// refreshToken is an issued refresh token; the token is its own id. Every
// refresh token that descends by rotation from one grant shares a Family.
type refreshToken struct {
	Token         string
	Family        string
	AuthTime      time.Time
	AMR           []string
	Audience      []string
	UserID        string
	ApplicationID string
	Expiration    time.Time
	Scopes        []string
	AccessToken   string // accessToken.ID
}

// refreshTokenRequest implements op.RefreshTokenRequest on a copy of a
// stored refresh token.
type refreshTokenRequest struct{ refreshToken }

func (r *refreshTokenRequest) GetAMR() []string             { return r.AMR }
func (r *refreshTokenRequest) GetAudience() []string        { return r.Audience }
func (r *refreshTokenRequest) GetAuthTime() time.Time       { return r.AuthTime }
func (r *refreshTokenRequest) GetClientID() string          { return r.ApplicationID }
func (r *refreshTokenRequest) GetScopes() []string          { return r.Scopes }
func (r *refreshTokenRequest) GetSubject() string           { return r.UserID }
func (r *refreshTokenRequest) SetCurrentScopes(sc []string) { r.Scopes = sc }

// deviceEntry is a pending, approved or denied device authorization.
type deviceEntry struct {
	deviceCode string
	userCode   string
	state      op.DeviceAuthorizationState
}

// signingKey is the RS256 key of the provider; it implements op.SigningKey.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (s *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (s *signingKey) Key() any                                    { return s.key }
func (s *signingKey) ID() string                                  { return s.id }

// publicKey is the public half of signingKey; it implements op.Key.
type publicKey struct{ signingKey }

func (s *publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (s *publicKey) Use() string                        { return "sig" }
func (s *publicKey) Key() any                           { return &s.key.PublicKey }

// storage implements op.Storage, op.CanSetUserinfoFromRequest and
// op.DeviceAuthorizationStorage in memory.
type storage struct {
	opts       Options // resolved
	signingKey signingKey
	clients    map[string]*client

	mu            sync.Mutex
	authRequests  map[string]*authRequest
	codes         map[string]string // code → auth request id
	tokens        map[string]*accessToken
	refreshTokens map[string]*refreshToken
	usedRefresh   map[string]string // rotated-away refresh token → family
	deviceCodes   map[string]*deviceEntry
	userCodes     map[string]string // normalized user code → device code
	lastUserCode  string
	autoApprove   bool
	detectReuse   bool
}

var (
	_ op.Storage                    = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest  = (*storage)(nil)
	_ op.DeviceAuthorizationStorage = (*storage)(nil)
)

func newStorage(opts Options, key *rsa.PrivateKey, clients map[string]*client) *storage {
	return &storage{
		opts:          opts,
		signingKey:    signingKey{id: randomID(), key: key},
		clients:       clients,
		authRequests:  make(map[string]*authRequest),
		codes:         make(map[string]string),
		tokens:        make(map[string]*accessToken),
		refreshTokens: make(map[string]*refreshToken),
		usedRefresh:   make(map[string]string),
		deviceCodes:   make(map[string]*deviceEntry),
		userCodes:     make(map[string]string),
	}
}

// randomID returns 128 random bits, base64url.
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errNotFound = errors.New("not found")

// userByID returns the user with that id, or nil.
func userByID(id string) *user {
	if id == testUser.ID {
		u := testUser
		return &u
	}
	return nil
}

// checkPassword reports whether username and password are TestUser's.
func checkPassword(username, password string) (*user, error) {
	if username == testUser.Username && password == testUser.Password {
		u := testUser
		return &u, nil
	}
	return nil, errors.New("username or password wrong")
}

// completeLogin marks the auth request id as logged in by u.
func (s *storage) completeLogin(id string, u *user) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[id]
	if !ok {
		return errors.New("auth request not found")
	}
	req.UserID = u.ID
	req.done = true
	req.authTime = time.Now()
	return nil
}

// CreateAuthRequest implements op.Storage.
func (s *storage) CreateAuthRequest(ctx context.Context, authReq *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	if slices.Contains(authReq.Prompt, oidc.PromptNone) && (s.opts.NoSession || s.opts.ManualLogin) {
		return nil, oidc.ErrLoginRequired()
	}
	var cc *oidc.CodeChallenge
	if authReq.CodeChallenge != "" {
		cc = &oidc.CodeChallenge{Challenge: authReq.CodeChallenge, Method: authReq.CodeChallengeMethod}
	}
	req := &authRequest{
		ID:            randomID(),
		CreationDate:  time.Now(),
		ApplicationID: authReq.ClientID,
		CallbackURI:   authReq.RedirectURI,
		TransferState: authReq.State,
		Prompt:        slices.Clone([]string(authReq.Prompt)),
		UserID:        userID,
		Scopes:        slices.Clone([]string(authReq.Scopes)),
		ResponseType:  authReq.ResponseType,
		ResponseMode:  authReq.ResponseMode,
		Nonce:         authReq.Nonce,
		CodeChallenge: cc,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authRequests[req.ID] = req
	return req.clone(), nil
}

// AuthRequestByID implements op.Storage.
func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[id]
	if !ok {
		return nil, errors.New("auth request not found")
	}
	return req.clone(), nil
}

// AuthRequestByCode implements op.Storage.
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[s.codes[code]]
	if !ok {
		return nil, errors.New("code invalid or expired")
	}
	return req.clone(), nil
}

// SaveAuthCode implements op.Storage.
func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest implements op.Storage; it also makes the code unusable.
func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	for code, reqID := range s.codes {
		if reqID == id {
			delete(s.codes, code)
		}
	}
	return nil
}

// infoFromRequest returns the client id, authentication time and methods of
// any token request of the library.
func infoFromRequest(req op.TokenRequest) (clientID string, authTime time.Time, amr []string) {
	switch r := req.(type) {
	case *authRequest:
		return r.ApplicationID, r.authTime, r.GetAMR()
	case *refreshTokenRequest:
		return r.ApplicationID, r.AuthTime, r.AMR
	case *op.DeviceAuthorizationState:
		return r.ClientID, r.AuthTime, r.AMR
	}
	if c, ok := req.(interface{ GetClientID() string }); ok {
		clientID = c.GetClientID()
	}
	return clientID, time.Time{}, nil
}

// newAccessTokenLocked stores an access token; s.mu is held.
func (s *storage) newAccessTokenLocked(clientID, refreshToken, family string, req op.TokenRequest) *accessToken {
	t := &accessToken{
		ID:             randomID(),
		ApplicationID:  clientID,
		Subject:        req.GetSubject(),
		RefreshTokenID: refreshToken,
		Family:         family,
		Audience:       slices.Clone(req.GetAudience()),
		Expiration:     time.Now().Add(s.opts.AccessTTL),
		Scopes:         slices.Clone(req.GetScopes()),
	}
	s.tokens[t.ID] = t
	return t
}

// CreateAccessToken implements op.Storage (grants without a refresh token).
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	clientID, _, _ := infoFromRequest(req)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.newAccessTokenLocked(clientID, "", "", req)
	return t.ID, t.Expiration, nil
}

// CreateAccessAndRefreshTokens implements op.Storage. With an empty
// current refresh token it starts a new family (code or device grant);
// otherwise it rotates current: the answer carries a new refresh token and
// current is invalid afterwards (unless Options.NoRotation).
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	clientID, authTime, amr := infoFromRequest(req)
	s.mu.Lock()
	defer s.mu.Unlock()
	if current == "" {
		rt := &refreshToken{
			Token:         randomID(),
			Family:        randomID(),
			AuthTime:      authTime,
			AMR:           slices.Clone(amr),
			Audience:      slices.Clone(req.GetAudience()),
			UserID:        req.GetSubject(),
			ApplicationID: clientID,
			Expiration:    time.Now().Add(s.opts.RefreshTTL),
			Scopes:        slices.Clone(req.GetScopes()),
		}
		at := s.newAccessTokenLocked(clientID, rt.Token, rt.Family, req)
		rt.AccessToken = at.ID
		s.refreshTokens[rt.Token] = rt
		return at.ID, rt.Token, at.Expiration, nil
	}
	old, err := s.refreshTokenLocked(current)
	if err != nil {
		// Someone used it in between: a concurrent refresh or a reuse.
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token is invalid, expired, revoked or already used")
	}
	if s.opts.NoRotation {
		at := s.newAccessTokenLocked(clientID, old.Token, old.Family, req)
		old.AccessToken = at.ID
		return at.ID, "", at.Expiration, nil
	}
	delete(s.refreshTokens, current)
	s.usedRefresh[current] = old.Family
	next := *old
	next.Token = randomID()
	next.Expiration = time.Now().Add(s.opts.RefreshTTL)
	at := s.newAccessTokenLocked(clientID, next.Token, next.Family, req)
	next.AccessToken = at.ID
	s.refreshTokens[next.Token] = &next
	return at.ID, next.Token, at.Expiration, nil
}

// refreshTokenLocked returns the live refresh token rt. For an unknown one
// it reports a reuse of a rotated-away token, revoking its family when reuse
// detection is on. s.mu is held.
func (s *storage) refreshTokenLocked(rt string) (*refreshToken, error) {
	t, ok := s.refreshTokens[rt]
	if ok && time.Now().Before(t.Expiration) {
		return t, nil
	}
	if family, used := s.usedRefresh[rt]; used && s.detectReuse {
		s.revokeFamilyLocked(family)
	}
	return nil, errors.New("invalid refresh token")
}

// revokeFamilyLocked deletes every refresh and access token of a family.
func (s *storage) revokeFamilyLocked(family string) {
	if family == "" {
		return
	}
	for k, t := range s.refreshTokens {
		if t.Family == family {
			delete(s.refreshTokens, k)
		}
	}
	for k, t := range s.tokens {
		if t.Family == family {
			delete(s.tokens, k)
		}
	}
}

// TokenRequestByRefreshToken implements op.Storage; the library answers
// invalid_grant for an error.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, rt string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.refreshTokenLocked(rt)
	if err != nil {
		return nil, err
	}
	c := *t
	c.AMR = slices.Clone(t.AMR)
	c.Audience = slices.Clone(t.Audience)
	c.Scopes = slices.Clone(t.Scopes)
	return &refreshTokenRequest{c}, nil
}

// refreshTokenValid reports whether rt can be used now.
func (s *storage) refreshTokenValid(rt string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.refreshTokens[rt]
	return ok && time.Now().Before(t.Expiration)
}

// revokeAllRefreshTokens deletes every refresh token.
func (s *storage) revokeAllRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.refreshTokens)
}

// TerminateSession implements op.Storage (end_session).
func (s *storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		if t.ApplicationID == clientID && t.Subject == userID {
			delete(s.tokens, k)
		}
	}
	for k, t := range s.refreshTokens {
		if t.ApplicationID == clientID && t.UserID == userID {
			delete(s.refreshTokens, k)
		}
	}
	return nil
}

// GetRefreshTokenInfo implements op.Storage.
func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.refreshTokens[token]
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.UserID, t.Token, nil
}

// RevokeToken implements op.Storage (RFC 7009). Revoking a refresh token
// revokes its family: itself and the access tokens issued with it.
func (s *storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tokenOrID]; ok {
		if t.ApplicationID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued for this client")
		}
		delete(s.tokens, t.ID)
		return nil
	}
	t, ok := s.refreshTokens[tokenOrID]
	if !ok {
		return nil // unknown tokens are fine (RFC 7009, section 2.2)
	}
	if t.ApplicationID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was not issued for this client")
	}
	delete(s.refreshTokens, t.Token)
	s.revokeFamilyLocked(t.Family)
	return nil
}

// SigningKey implements op.Storage.
func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return &s.signingKey, nil
}

// SignatureAlgorithms implements op.Storage.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet implements op.Storage.
func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	return []op.Key{&publicKey{s.signingKey}}, nil
}

// GetClientByClientID implements op.Storage.
func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, ok := s.clients[clientID]
	if !ok {
		return nil, errors.New("client not found")
	}
	return c, nil
}

// AuthorizeClientIDSecret implements op.Storage.
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	c, ok := s.clients[clientID]
	if !ok {
		return errors.New("client not found")
	}
	if c.secret == "" || c.secret != secret {
		return errors.New("invalid secret")
	}
	return nil
}

// SetUserinfoFromScopes implements op.Storage; SetUserinfoFromRequest does
// the work.
func (s *storage) SetUserinfoFromScopes(ctx context.Context, info *oidc.UserInfo, userID, clientID string, scopes []string) error {
	return nil
}

// SetUserinfoFromRequest implements op.CanSetUserinfoFromRequest (ID token).
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return setUserinfo(info, req.GetSubject(), scopes)
}

// SetUserinfoFromToken implements op.Storage (userinfo endpoint).
func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	var scopes []string
	if ok {
		scopes = slices.Clone(t.Scopes)
		subject = t.Subject
		ok = time.Now().Before(t.Expiration)
	}
	s.mu.Unlock()
	if !ok {
		return errors.New("token is invalid or has expired")
	}
	return setUserinfo(info, subject, scopes)
}

// SetIntrospectionFromToken implements op.Storage.
func (s *storage) SetIntrospectionFromToken(ctx context.Context, in *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	var c accessToken
	if ok {
		c = *t
	}
	s.mu.Unlock()
	if !ok || time.Now().After(c.Expiration) {
		return errors.New("token is invalid or has expired")
	}
	if !slices.Contains(c.Audience, clientID) {
		return errors.New("token is not valid for this client")
	}
	info := new(oidc.UserInfo)
	if err := setUserinfo(info, c.Subject, c.Scopes); err != nil {
		return err
	}
	in.SetUserInfo(info)
	in.Expiration = oidc.FromTime(c.Expiration)
	in.Scope = c.Scopes
	in.ClientID = c.ApplicationID
	return nil
}

// GetPrivateClaimsFromScopes implements op.Storage: no private claims.
func (s *storage) GetPrivateClaimsFromScopes(ctx context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID implements op.Storage: no client has keys.
func (s *storage) GetKeyByIDAndClientID(ctx context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	return nil, errNotFound
}

// ValidateJWTProfileScopes implements op.Storage.
func (s *storage) ValidateJWTProfileScopes(ctx context.Context, userID string, scopes []string) ([]string, error) {
	return nil, errors.New("JWT profile grant not supported")
}

// Health implements op.Storage.
func (s *storage) Health(ctx context.Context) error { return nil }

// setUserinfo sets the claims of the scopes for the user.
func setUserinfo(info *oidc.UserInfo, userID string, scopes []string) error {
	u := userByID(userID)
	if u == nil {
		return errors.New("user not found")
	}
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeOpenID:
			info.Subject = u.ID
		case oidc.ScopeEmail:
			info.Email = u.Email
			info.EmailVerified = oidc.Bool(u.EmailVerified)
		case oidc.ScopeProfile:
			info.PreferredUsername = u.Username
			info.Name = u.GivenName + " " + u.FamilyName
			info.GivenName = u.GivenName
			info.FamilyName = u.FamilyName
			info.Locale = oidc.NewLocale(language.English)
		}
	}
	return nil
}

// normalizeUserCode upper-cases a user code and drops everything but
// letters and digits, so "bcdf-ghjk", "BCDFGHJK" and "BCDF GHJK" match.
func normalizeUserCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// StoreDeviceAuthorization implements op.DeviceAuthorizationStorage.
func (s *storage) StoreDeviceAuthorization(ctx context.Context, clientID, deviceCode, userCode string, expires time.Time, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[clientID]; !ok {
		return errors.New("client not found")
	}
	norm := normalizeUserCode(userCode)
	if _, ok := s.userCodes[norm]; ok {
		return op.ErrDuplicateUserCode
	}
	s.deviceCodes[deviceCode] = &deviceEntry{
		deviceCode: deviceCode,
		userCode:   userCode,
		state: op.DeviceAuthorizationState{
			ClientID: clientID,
			Scopes:   slices.Clone(scopes),
			Expires:  expires,
		},
	}
	s.userCodes[norm] = deviceCode
	s.lastUserCode = userCode
	return nil
}

// GetDeviceAuthorizatonState implements op.DeviceAuthorizationStorage. It
// returns a copy; an approved authorization is consumed by the poll that
// gets its tokens. With auto-approval, the first poll of a pending
// authorization answers authorization_pending and approves it.
func (s *storage) GetDeviceAuthorizatonState(ctx context.Context, clientID, deviceCode string) (*op.DeviceAuthorizationState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.deviceCodes[deviceCode]
	if !ok || e.state.ClientID != clientID {
		return nil, errors.New("device code not found for client")
	}
	state := e.state
	state.Audience = slices.Clone(e.state.Audience)
	state.Scopes = slices.Clone(e.state.Scopes)
	state.AMR = slices.Clone(e.state.AMR)
	switch {
	case state.Done || state.Denied:
		delete(s.deviceCodes, deviceCode)
		delete(s.userCodes, normalizeUserCode(e.userCode))
	case s.autoApprove && time.Now().Before(state.Expires):
		approveLocked(e)
	}
	return &state, nil
}

// approveLocked approves e as TestUser.
func approveLocked(e *deviceEntry) {
	e.state.Subject = testUser.ID
	e.state.AMR = []string{"pwd"}
	e.state.AuthTime = time.Now()
	e.state.Done = true
}

// deviceEntryLocked finds the device authorization of a user code.
func (s *storage) deviceEntryLocked(userCode string) (*deviceEntry, error) {
	e, ok := s.deviceCodes[s.userCodes[normalizeUserCode(userCode)]]
	if !ok {
		return nil, errors.New("oidcop: unknown user code " + userCode)
	}
	if e.state.Done || e.state.Denied {
		return nil, errors.New("oidcop: user code " + userCode + " was already answered")
	}
	if time.Now().After(e.state.Expires) {
		return nil, errors.New("oidcop: user code " + userCode + " has expired")
	}
	return e, nil
}

// approveDevice approves the pending device authorization of userCode.
func (s *storage) approveDevice(userCode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.deviceEntryLocked(userCode)
	if err != nil {
		return err
	}
	approveLocked(e)
	return nil
}

// denyDevice denies the pending device authorization of userCode.
func (s *storage) denyDevice(userCode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.deviceEntryLocked(userCode)
	if err != nil {
		return err
	}
	e.state.Denied = true
	return nil
}

// deviceClientAndScopes describes a pending device authorization for the
// verification page.
func (s *storage) deviceClientAndScopes(userCode string) (string, []string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.deviceEntryLocked(userCode)
	if err != nil {
		return "", nil, err
	}
	return e.state.ClientID, slices.Clone(e.state.Scopes), nil
}
