//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package config

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/bincode"
	"github.com/oidc-auth/oidc-auth/internal/memo"
	"github.com/oidc-auth/oidc-auth/internal/sha256"
	"github.com/oidc-auth/oidc-auth/internal/storekey"
	"github.com/oidc-auth/oidc-auth/internal/tokenfile"
)

// The match cache keeps LoadMatch's answers for a large config, so that
// a command answering git or docker does not parse and check a thousand
// [[server]] tables on every start (0.7 ms of a 3 ms get) when the file
// has not changed.
//
// An answer is a function of the file's content and the request alone
// (no environment, no clock), so a cached answer is keyed by the content
// itself: its size and its 64-bit xxHash (10 µs for 100 KB), not by
// modification times, which some filesystems keep too
// coarsely to see an edit made in the same tick (git's "racily clean"
// index entries). It is also keyed by the program that wrote it, by the
// identity of its executable (device, inode, size, modification time),
// so that a new build, whose checks may differ, never takes an old
// build's answers. Only answers are kept: an error, and a config not of
// the usual shape (ErrUnusual), are found again by parsing.
//
// The cache is one file per config path and program, in the token file's
// default directory ($XDG_CACHE_HOME/oidc-auth, else ~/.cache/oidc-auth
// or the system's cache directory). It is used only where it is private:
// the directory must be the user's and closed to others, and the file a
// regular file of the user's that nobody else may read or write (it
// holds entries, client secrets included, and an entry says where a
// token goes). Anything else, and any damage, is a cache miss.

// cacheAbove is the config size from which LoadMatch uses the cache
// (about 150 entries); below it, parsing costs no more than the cache.
var cacheAbove = 16 << 10

// cacheRecords is how many answers (requests) a cache file keeps, the
// latest first.
const cacheRecords = 32

// cacheMagic starts a cache file: its format.
const cacheMagic = "oidc-auth config matches 1\n"

// cacheMax bounds the size of a cache file read.
const cacheMax = 1 << 20

// orphanAge is how old a temporary cache file must be to be taken for one
// that a writer killed before its rename left behind: far longer than a
// write takes.
const orphanAge = time.Minute

// staleAge is how long a cache file may go unwritten before a write of
// another is taken as the moment to remove it: it is then most likely of
// a config that was moved or deleted, or of a program that is gone. A
// cache file that is only read, for a config that never changes, goes too,
// and is written again on its next miss.
const staleAge = 30 * 24 * time.Hour

// cacheKey says which config content, and which program, an answer
// belongs to.
type cacheKey struct {
	exe  [4]uint64 // the executable's device, inode, size and mtime
	size uint64    // the config's size
	sum  uint64    // its xxHash64
}

// contentKey returns the key of config content of sum for this program;
// ok is false when the program's executable cannot be identified.
func contentKey(sum Sum) (k cacheKey, ok bool) {
	k.exe, ok = ExecutableID()
	// Not hash/crc32: its tables cost a start 0.3 ms to make.
	k.size, k.sum = sum.Size, sum.Hash
	return k, ok
}

// ExecutableID identifies the running program's file: its device, inode,
// size and modification time in nanoseconds. ok is false when the file
// cannot be found.
func ExecutableID() (id [4]uint64, ok bool) {
	fi, ok := statExecutable()
	if !ok {
		return id, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return id, false
	}
	return [4]uint64{uint64(st.Dev), uint64(st.Ino), uint64(fi.Size()), uint64(fi.ModTime().UnixNano())}, true
}

// statExecutable stats the running program's file: /proc/self/exe on
// Linux, which the kernel resolves to the file itself, else the file
// os.Executable names.
func statExecutable() (os.FileInfo, bool) {
	if fi, err := os.Stat("/proc/self/exe"); err == nil {
		return fi, true
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, false
	}
	fi, err := os.Stat(exe)
	return fi, err == nil
}

// cacheFile returns the path of the cache file of the config at path and
// this program, and its directory; "" when there is no cache directory.
func cacheFile(path string) (file, dir string) {
	tokens, err := storekey.FilePath(appName, os.UserCacheDir)
	if err != nil {
		return "", ""
	}
	// One file per program too, so that git's and docker's helpers, whose
	// executables differ, do not take turns replacing each other's.
	var prog string
	if len(os.Args) > 0 {
		prog = filepath.Base(os.Args[0])
	}
	sum := sha256.Sum256([]byte(path + "\x00" + prog))
	dir = filepath.Dir(tokens)
	return filepath.Join(dir, "config-matches-"+hex.EncodeToString(sum[:8])), dir
}

// private reports whether st is of a file or directory of kind (S_IFREG,
// S_IFDIR) that is the user's and that nobody else may use.
func private(st *syscall.Stat_t, kind uint32) bool {
	return uint32(st.Mode)&syscall.S_IFMT == kind && st.Uid == uint32(syscall.Geteuid()) && st.Mode&0o077 == 0
}

// readCache returns the content of the cache file at file in dir, nil
// when it is missing or not private.
func readCache(file, dir string) []byte { return tokenfile.ReadPrivate(file, dir, cacheMax) }

// lookupMatch returns the cached answer to t for config content of key,
// nil for "no entry answers"; hit is false when the cache holds none.
func lookupMatch(path string, k cacheKey, t Target) (s *Server, hit bool) {
	file, dir := cacheFile(path)
	if file == "" {
		return nil, false
	}
	recs, ok := decodeCache(readCache(file, dir), k)
	if !ok {
		return nil, false
	}
	for _, r := range recs {
		if r.target == t {
			return r.server, true
		}
	}
	return nil, false
}

// storeMatch adds the answer s (nil for none) to t for config content of
// key to the cache, keeping the latest cacheRecords answers. It fails
// silently: the cache only saves time.
func storeMatch(path string, k cacheKey, t Target, s *Server) {
	file, dir := cacheFile(path)
	if file == "" {
		return
	}
	recs, _ := decodeCache(readCache(file, dir), k)
	keep := []cacheRecord{{t, s}}
	for _, r := range recs {
		if r.target != t && len(keep) < cacheRecords {
			keep = append(keep, r)
		}
	}
	writeCache(dir, file, encodeCache(k, keep))
}

// writeCache replaces the cache file at file in dir, which it makes, with
// b, by a rename, while the directory is private. It fails silently: the
// cache only saves time.
func writeCache(dir, file string, b []byte) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	var st syscall.Stat_t
	if syscall.Lstat(dir, &st) != nil || !private(&st, syscall.S_IFDIR) {
		return
	}
	tmp, err := os.CreateTemp(dir, ".config-matches-*") // mode 0600
	if err != nil {
		return
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	sweep(dir, time.Now())
}

// MemoFile returns the path of the file of the core's decisions for the
// config at path (see internal/memo), beside the match cache, and its
// directory; "" when there is no cache directory.
func MemoFile(path string) (file, dir string) {
	tokens, err := storekey.FilePath(appName, os.UserCacheDir)
	if err != nil {
		return "", ""
	}
	return memo.FileName(filepath.Dir(tokens), path), filepath.Dir(tokens)
}

// ReadMemo returns the content of the memo file at file in dir, nil when
// it is missing or not private to the user.
func ReadMemo(file, dir string) []byte { return readCache(file, dir) }

// WriteMemo replaces the memo file at file in dir with b (see writeCache).
func WriteMemo(file, dir string, b []byte) { writeCache(dir, file, b) }

// sweep removes from the cache directory dir what earlier writes left: the
// temporary files of writers killed before their rename, older than
// orphanAge, and the cache files that none has written for staleAge. It
// runs after a write, which a cache miss makes, so that a get that the
// cache answers pays nothing for it. It removes only regular files of the
// user's, and follows no link.
func sweep(dir string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	euid := uint32(syscall.Geteuid())
	for _, e := range entries {
		name := e.Name()
		var age time.Duration
		switch {
		case strings.HasPrefix(name, ".config-matches-"):
			age = orphanAge
		case strings.HasPrefix(name, "config-matches-"):
			age = staleAge
		default:
			continue
		}
		fi, err := e.Info() // lstat: a link is not a regular file
		if err != nil || !fi.Mode().IsRegular() || now.Sub(fi.ModTime()) <= age {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid == euid {
			os.Remove(filepath.Join(dir, name))
		}
	}
}

// cacheRecord is one cached answer.
type cacheRecord struct {
	target Target
	server *Server // nil: no entry answers
}

// encodeCache returns the cache file of recs for key: the magic, the key,
// the number of records, and each record's target, whether an entry
// answers, and the entry.
func encodeCache(k cacheKey, recs []cacheRecord) []byte {
	b := []byte(cacheMagic)
	for _, v := range k.exe {
		b = bincode.AppendU64(b, v)
	}
	b = bincode.AppendU64(b, k.size)
	b = bincode.AppendU64(b, k.sum)
	b = bincode.AppendUvarint(b, uint64(len(recs)))
	for _, r := range recs {
		b = bincode.AppendStr(b, r.target.Scheme, r.target.Host, r.target.Hostname, r.target.Path)
		if r.server == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = appendServer(b, r.server)
	}
	return b
}

// decodeCache returns the records of cache file content b when it is of
// key; ok is false for a file of another content or program, and for
// anything damaged.
func decodeCache(b []byte, k cacheKey) (recs []cacheRecord, ok bool) {
	d := decoder{bincode.NewDecoder(b)}
	if string(d.Take(len(cacheMagic))) != cacheMagic {
		return nil, false
	}
	var got cacheKey
	for i := range got.exe {
		got.exe[i] = d.U64()
	}
	got.size = d.U64()
	got.sum = d.U64()
	if d.Bad() || got != k {
		return nil, false
	}
	n := d.Uvarint()
	if n > cacheRecords {
		return nil, false
	}
	for range n {
		var r cacheRecord
		r.target = Target{Scheme: d.Str(), Host: d.Str(), Hostname: d.Str(), Path: d.Str()}
		switch d.Byte() {
		case 0:
		case 1:
			r.server = d.server()
		default:
			d.Fail()
		}
		if d.Bad() {
			return nil, false
		}
		recs = append(recs, r)
	}
	if d.Bad() || d.Left() != 0 {
		return nil, false
	}
	return recs, true
}

// appendServer appends every field of s, the parsed match included, in
// the order decoder.server reads them. TestCacheKeepsEveryField checks
// that no field is left out.
func appendServer(b []byte, s *Server) []byte {
	b = bincode.AppendStr(b, s.Match, s.Host, s.Issuer, s.ClientID, s.ClientSecret)
	b = appendList(b, s.Scopes != nil, len(s.Scopes))
	b = bincode.AppendStr(b, s.Scopes...)
	b = bincode.AppendStr(b, s.Audience, s.RedirectHost, s.UsernameClaim, s.LoginRoute, s.TokenRoute, s.DeviceRoute)
	b = appendList(b, s.RedirectPorts != nil, len(s.RedirectPorts))
	for _, p := range s.RedirectPorts {
		b = bincode.AppendVarint(b, int64(p))
	}
	b = bincode.AppendStr(b, s.Username)
	if s.AllowHTTP {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return bincode.AppendStr(b, s.Auth, s.match.Scheme, s.match.Host, s.match.Hostname, s.match.Path)
}

// appendList appends a list's length, 0 for a nil list.
func appendList(b []byte, present bool, n int) []byte {
	if !present {
		return bincode.AppendUvarint(b, 0)
	}
	return bincode.AppendUvarint(b, uint64(n)+1)
}

// decoder reads a cache file (bincode.Decoder), with the cache's lists
// and servers.
type decoder struct{ *bincode.Decoder }

// list reads a list's length; present is false for a nil list.
func (d *decoder) list() (n int, present bool) {
	v := d.Uvarint()
	if v == 0 || v > uint64(d.Left())+1 { // every element takes a byte at least
		if v != 0 {
			d.Fail()
		}
		return 0, false
	}
	return int(v - 1), true
}

func (d *decoder) server() *Server {
	var s Server
	s.Match, s.Host, s.Issuer, s.ClientID, s.ClientSecret = d.Str(), d.Str(), d.Str(), d.Str(), d.Str()
	if n, ok := d.list(); ok {
		s.Scopes = make([]string, n)
		for i := range s.Scopes {
			s.Scopes[i] = d.Str()
		}
	}
	s.Audience, s.RedirectHost, s.UsernameClaim = d.Str(), d.Str(), d.Str()
	s.LoginRoute, s.TokenRoute, s.DeviceRoute = d.Str(), d.Str(), d.Str()
	if n, ok := d.list(); ok {
		s.RedirectPorts = make([]int, n)
		for i := range s.RedirectPorts {
			s.RedirectPorts[i] = int(d.Varint())
		}
	}
	s.Username = d.Str()
	switch d.Byte() {
	case 0:
	case 1:
		s.AllowHTTP = true
	default:
		d.Fail()
	}
	s.Auth = d.Str()
	s.match = Pattern{Scheme: d.Str(), Host: d.Str(), Hostname: d.Str(), Path: d.Str()}
	if d.Bad() {
		return nil
	}
	return &s
}
