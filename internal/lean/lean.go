//go:build linux

// Package lean is the first stage of the commands on Linux
// (git-credential-oidc, docker-credential-oidc, oidc-auth): a program that
// links no os, fmt or encoding/json, whose start costs what the smallest
// Go program's does. It answers the requests made most often, git's and
// docker's get and `oidc-auth token HOST`, when the login is in the token
// file and its token is valid, and execs oidc-auth-core, beside it, for
// everything else.
//
// It cannot parse the config's TOML nor URLs, so it answers only from the
// decisions oidc-auth-core wrote down when it answered the same request
// for the same config, with the same build, and a login entry of the same
// recorded server (see internal/memo; internal/fast writes them): which
// login answers, with which username, and how git takes the token. Which
// store is read (the token file here; the keychain is the core's), the
// entry itself (tokenfile, tokenrec), whether the token is valid, and the
// wait for another process's refresh (tokenfile.WaitForRefresh), it
// decides itself, with the same code as the core. Anything it does not
// find written down, the core answers, and writes down.
package lean

import (
	"path"
	"strings"
	"syscall"
	"time"
	_ "unsafe" // for go:linkname

	"github.com/cespare/xxhash/v2"

	answers "github.com/oidc-auth/oidc-auth/internal/answer"
	"github.com/oidc-auth/oidc-auth/internal/ascii"
	"github.com/oidc-auth/oidc-auth/internal/gitproto"
	"github.com/oidc-auth/oidc-auth/internal/jsonscan/scan"
	"github.com/oidc-auth/oidc-auth/internal/logins"
	"github.com/oidc-auth/oidc-auth/internal/memo"
	"github.com/oidc-auth/oidc-auth/internal/secretservice"
	"github.com/oidc-auth/oidc-auth/internal/tokenfile"
	"github.com/oidc-auth/oidc-auth/internal/tokenrec"
)

// runtimeArgs is the runtime's copy of the arguments, which it gives os
// as os.Args.
//
//go:linkname runtimeArgs os.runtime_args
func runtimeArgs() []string

// Core is the program that does the work (handoff.Core).
const Core = "oidc-auth-core"

// readLimit is handoff.ReadLimit: how much of a request the commands read
// before they hand it over.
const readLimit = 1 << 20

// pipeLimit is how much of a request is handed over through a pipe
// written before the exec (handoff's pipeLimit); a longer one goes to the
// core as a child that the command feeds (spawn).
const pipeLimit = 60 << 10

// checks are the scan's for a reader without encoding/json: an entry must
// be JSON in UTF-8 (scan.Valid), and an escaped key is left to the core.
var checks = scan.Checks{Valid: scan.Valid}

// Run answers the request of program, the command's name, as the core
// would, or execs the core in its place. It does not return.
func Run(program string) {
	args := runtimeArgs()
	var request []byte
	consumed := false
	if len(args) == 2 && args[1] == "get" && program != "oidc-auth" {
		request, consumed = readRequest(program == "git-credential-oidc")
		if consumed && len(request) <= readLimit {
			if out, ok := answer(program, args, request); ok {
				exit(program, out)
			}
		}
	} else if program == "oidc-auth" && len(args) > 1 && (args[1] == "token" || args[1] == "kubectl") {
		if out, ok := answer(program, args, nil); ok {
			exit(program, out)
		}
	}
	handOver(program, args, request, consumed)
}

// exit writes out to standard output and exits, 0 when all of it went
// out.
func exit(program string, out string) {
	if !writeAll(1, []byte(out)) {
		fail(program, "cannot write the answer")
	}
	syscall.Exit(0)
}

// fail writes msg as the commands write their errors (handoff.fail) and
// exits with 1.
func fail(program, msg string) {
	fd := 2
	if program == "docker-credential-oidc" {
		fd = 1
	}
	syscall.Write(fd, []byte(program+": "+ascii.Safe(msg)+"\n"))
	syscall.Exit(1)
}

// readRequest reads standard input as handoff.ReadRequest does: nothing
// from a terminal; else up to a blank line (git's requests) or the end,
// readLimit bytes and one more at most.
func readRequest(git bool) (request []byte, consumed bool) {
	var st syscall.Stat_t
	if syscall.Fstat(0, &st) != nil || st.Mode&syscall.S_IFMT == syscall.S_IFCHR {
		return nil, false
	}
	buf := make([]byte, 0, 4096)
	for len(buf) <= readLimit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := readStdin(buf[len(buf):min(cap(buf), readLimit+1)])
		buf = buf[:len(buf)+n]
		if err != nil || n == 0 || (git && gitproto.EndsRequest(buf, len(buf)-n)) {
			break
		}
	}
	return buf, true
}

// readStdin reads standard input as os.Stdin does: again after an
// interrupted read, and after waiting for input on a descriptor that its
// parent made non-blocking.
func readStdin(b []byte) (int, error) {
	for {
		n, err := syscall.Read(0, b)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			var r syscall.FdSet
			r.Bits[0] = 1 // descriptor 0
			if _, err := syscall.Select(1, &r, nil, nil, nil); err == nil || err == syscall.EINTR {
				continue
			}
		}
		return max(n, 0), err
	}
}

// getenv is os.Getenv.
func getenv(k string) string {
	v, _ := syscall.Getenv(k)
	return v
}

// source is where the core reads the logins in this environment.
type source = logins.Source

// sources returns where the core reads the logins in this environment, as
// fast.sources decides; ok is false when it would print debug output, or
// for a setting the cached answer does not cover, or a keychain the core
// would not read (a forced one without a session bus, or one another
// process found silent a moment ago).
func sources() (s source, ok bool) {
	if getenv("OIDC_AUTH_DEBUG") != "" {
		return s, false
	}
	backend := ascii.Lower(strings.TrimSpace(getenv("OIDC_AUTH_STORE")))
	switch backend {
	case "", "auto", "keychain", "file":
	default:
		return s, false
	}
	if p := getenv("OIDC_TOKEN_FILE"); p != "" {
		return source{File: p, Locks: p}, backend != "keychain"
	}
	dir, ok := cacheDir()
	if !ok {
		return s, false
	}
	p := path.Join(dir, "token-store.json")
	switch {
	case backend == "file":
		return source{File: p, Locks: p}, true
	case secretservice.BusMissing() != "":
		// keyring finds the keychain unavailable: a forced keychain is an
		// error, the default store reads the file.
		return source{File: p, Locks: p}, backend != "keychain"
	case backend == "keychain":
		return source{Keychain: true, Locks: p}, true
	}
	var st syscall.Stat_t
	switch err := syscall.Lstat(tokenfile.LockDir(p)+"/keychain-silent", &st); {
	case err == nil && time.Since(time.Unix(st.Mtim.Unix())) < secretservice.SilentFor: // keyring skips the keychain now
		return s, false
	case err != nil && err != syscall.ENOENT: // no telling
		return s, false
	}
	return source{Keychain: true, File: p, Locks: p}, true
}

// find reads the record of key where the core reads it (see
// logins.Source.Lookup), the token file's entry with the scan's checks of
// a reader without encoding/json.
func find(src source, key string) (tokenrec.Record, bool) {
	return src.Lookup(key, secretservice.ReadWait, func(file, key string) (tokenrec.Record, bool) {
		raw, ok := tokenfile.ReadEntry(file, key, checks)
		if !ok {
			return tokenrec.Record{}, false
		}
		return tokenrec.Decode(raw)
	})
}

// cacheDir is the directory of the default token file and of the memo
// (storekey.FilePath on Linux).
func cacheDir() (string, bool) {
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return path.Join(d, "oidc-auth"), true
	}
	if h := getenv("HOME"); h != "" {
		return path.Join(h, ".cache", "oidc-auth"), true
	}
	return "", false
}

// configPath is config.ConfigPath on Linux; ok is false with no home.
func configPath() (string, bool) {
	if p := getenv("OIDC_AUTH_CONFIG"); p != "" {
		return p, true
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return path.Join(d, "oidc-auth", "config.toml"), true
	}
	if h := getenv("HOME"); h != "" {
		return path.Join(h, ".config", "oidc-auth", "config.toml"), true
	}
	return "", false
}

// memoKey returns the key of the memo that holds the core's decisions for
// the config at path as it is now.
func memoKey(config string) (k memo.Key, ok bool) {
	core, ok := corePath()
	if !ok {
		return k, false
	}
	if k.Exe, ok = coreID(core); !ok {
		return k, false
	}
	b, found, ok := readConfig(config)
	if !ok {
		return k, false
	}
	k.Size, k.Sum = memo.NoConfig, 0
	if found {
		k.Size, k.Sum = uint64(len(b)), xxhash.Sum64(b)
	}
	return k, true
}

// coreID is the identity of the core at path (memo.Key.Exe): its device,
// inode, size and modification time.
func coreID(path string) (id [4]uint64, ok bool) {
	var st syscall.Stat_t
	if syscall.Stat(path, &st) != nil {
		return id, false
	}
	return [4]uint64{uint64(st.Dev), uint64(st.Ino), uint64(st.Size), uint64(st.Mtim.Nano())}, true
}

// corePath is the core beside this program (handoff's find).
func corePath() (string, bool) {
	exe, ok := exePath()
	return path.Join(path.Dir(exe), Core), ok
}

// exePath is this program's file.
func exePath() (string, bool) {
	buf := make([]byte, 4096)
	n, err := syscall.Readlink("/proc/self/exe", buf)
	if err != nil || n <= 0 || n >= len(buf) {
		return "", false
	}
	return string(buf[:n]), true
}

// readConfig reads the config file; found is false when there is none.
func readConfig(file string) (b []byte, found, ok bool) {
	fd, err := syscall.Open(file, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err == syscall.ENOENT {
		return nil, false, true
	}
	if err != nil {
		return nil, false, false
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Size > 16<<20 {
		return nil, false, false
	}
	b, ok = tokenfile.ReadAll(fd, int(st.Size))
	return b, true, ok
}

// readMemo reads the memo file of the config at config, while it and its
// directory are private to the user (config.ReadMemo).
func readMemo(config string) []byte {
	dir, ok := cacheDir()
	if !ok {
		return nil
	}
	return tokenfile.ReadPrivate(memo.FileName(dir, config), dir, memo.MaxSize)
}

// answer is the answer to the request, when the memo and the token file
// hold it.
func answer(program string, args []string, request []byte) (string, bool) {
	q, ok := ask(program, args, request)
	if !ok {
		return "", false
	}
	src, ok := sources()
	if !ok || q.kind >= token && strings.TrimSpace(getenv("OIDC_AUTH_LOCK_TIMEOUT")) != "" {
		return "", false
	}
	config, ok := configPath()
	if !ok {
		return "", false
	}
	k, ok := memoKey(config)
	if !ok {
		return "", false
	}
	recs, ok := memo.Decode(readMemo(config), k)
	if !ok {
		return "", false
	}
	r := memo.Find(recs, q.question)
	if r == nil {
		return "", false
	}
	rec, ok := find(src, r.LoginKey)
	if !ok {
		return "", false
	}
	v := r.Variant(memo.VariantKey(rec.Host, rec.Issuer, rec.RedirectPorts))
	if v == nil {
		return "", false
	}
	now := time.Now()
	if q.kind == kubectlIssuer {
		token, exp, ok := answers.IDToken(&rec, now)
		if !ok {
			return "", false
		}
		return answers.ExecCredential(q.api, q.interactive, token, exp), true
	}
	if !rec.Valid(now) {
		// As fast.fresh: wait for another process's refresh, or take the
		// hand-over lock and leave the refresh to the core.
		if getenv("OIDC_AUTH_LOCK_TIMEOUT") != "" || !tokenfile.WaitForRefresh(src.Locks, r.LoginKey) {
			return "", false
		}
		if rec, ok = find(src, r.LoginKey); !ok || !rec.Valid(time.Now()) ||
			memo.VariantKey(rec.Host, rec.Issuer, rec.RedirectPorts) != v.Key {
			return "", false
		}
	}
	user := v.User
	if v.FromRecord && rec.Username != "" {
		user = rec.Username
	}
	switch q.kind {
	case git:
		return gitproto.Answer(q.req, user, v.UserFixed, v.Auth, rec.Access, rec.Expires), true
	case docker:
		if !answers.JSONPlain(user) || !answers.JSONPlain(rec.Access) {
			return "", false
		}
		return answers.Docker(q.serverURL, user, rec.Access), true
	case kubectl:
		if rec.Issuer != "" || !answers.JSONPlain(rec.Access) {
			return "", false
		}
		return answers.ExecCredential(q.api, q.interactive, rec.Access, rec.Expires), true
	}
	if rec.Issuer != "" {
		return "", false
	}
	return rec.Access + "\n", true
}

// Kinds of request.
const (
	git = iota
	docker
	token
	kubectl
	kubectlIssuer
)

// query is a request, read as far as the memo needs it.
type query struct {
	kind        int
	question    string
	req         *gitproto.Request // git's
	serverURL   string            // docker's
	api         string            // kubectl's API version
	interactive bool
}

// ask reads the request of program, with arguments args and standard
// input request, as the command reads it; ok is false for one the memo
// cannot hold.
func ask(program string, args []string, request []byte) (q query, ok bool) {
	switch program {
	case "git-credential-oidc":
		req, err := gitproto.ParseRequest(bytesReader(request))
		if err != nil {
			return q, false
		}
		return query{kind: git, req: req, question: memo.Git(req.Get("protocol"), req.Get("host"), req.Get("path"))}, true
	case "docker-credential-oidc":
		u, ok := answers.DockerURL(request)
		return query{kind: docker, serverURL: u, question: memo.Docker(u)}, ok
	}
	switch {
	case len(args) == 3 && args[1] == "token":
		return query{kind: token, question: memo.Token(args[2])}, true
	case args[1] != "kubectl":
		return q, false
	}
	q.api, q.interactive, ok = answers.ExecInfo(getenv("KUBERNETES_EXEC_INFO"))
	switch {
	case !ok:
		return q, false
	case len(args) == 3:
		q.kind, q.question = kubectl, memo.Token(args[2])
	case len(args) == 6 && args[2] == "--issuer" && args[4] == "--client-id":
		q.kind, q.question = kubectlIssuer, memo.Issuer(args[3], args[5])
	default:
		return q, false
	}
	return q, true
}
