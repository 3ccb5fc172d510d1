// Package memo is the file in which oidc-auth-core writes down the
// decisions behind the cached answers it gives, so that the first stage of
// the small commands (internal/lean), which cannot parse the config's TOML
// nor URLs without the packages whose start it exists to avoid, can give
// the same answers without it.
//
// A decision is a function of the config file's content, the request and a
// few fields of the login's entry, and of nothing else: not the clock (the
// token's validity is the first stage's to check), not the environment
// (where the logins are is too). So a record is keyed by the request, a
// variant by the entry's fields (see VariantKey), and the whole file by
// the config's size and xxHash64 (no config: NoConfig) and by the identity
// of the oidc-auth-core executable that wrote it, so that a new build, or
// a config edited in any way, finds nothing and asks the core again. A
// record holds only what the answer is made from: the login's store key,
// the username and how git takes the token; no token, no secret.
//
// The package encodes and decodes; the files are written by internal/fast
// in oidc-auth-core and read by internal/lean. It imports nothing heavy.
package memo

import (
	"strconv"

	"github.com/oidc-auth/oidc-auth/internal/ascii"
	"github.com/oidc-auth/oidc-auth/internal/bincode"
	"github.com/oidc-auth/oidc-auth/internal/sha256"
)

// Magic starts a memo file: its format.
const Magic = "oidc-auth lean memo 1\n"

// MaxRecords is how many requests a file keeps, the latest first, and
// MaxVariants how many variants a record.
const (
	MaxRecords  = 32
	MaxVariants = 8
)

// MaxSize bounds the size of a memo file read.
const MaxSize = 1 << 20

// NoConfig is Key.Size when there is no config file.
const NoConfig = ^uint64(0)

// FileName is the memo file in dir, the token file's default directory,
// of the config at path: "config-matches-memo-" and the first 8 bytes of
// the SHA-256 of the path, in hex (a name of the match cache's, whose
// clean-up takes it too).
func FileName(dir, path string) string {
	sum := sha256.Sum256([]byte(path))
	return dir + "/config-matches-memo-" + ascii.Hex(sum[:8])
}

// Key says which config content, and which core, a file's decisions are
// of.
type Key struct {
	Exe  [4]uint64 // the core's device, inode, size and mtime in nanoseconds
	Size uint64    // the config's size, NoConfig for none
	Sum  uint64    // its xxHash64
}

// CoreIDEnv names the environment variable in which the first stage tells
// the core it execs the identity (Key.Exe) it found the core under, for
// the core to key its decisions by: its own file's, unless a program that
// runs the core in its turn stands in its place.
const CoreIDEnv = "OIDC_AUTH_CORE_ID"

// FormatID writes an identity for CoreIDEnv.
func FormatID(id [4]uint64) string {
	var b []byte
	for i, v := range id {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, v, 16)
	}
	return string(b)
}

// ParseID reads what FormatID wrote.
func ParseID(s string) (id [4]uint64, ok bool) {
	for i := range id {
		j := 0
		for j < len(s) && s[j] != '-' {
			j++
		}
		v, err := strconv.ParseUint(s[:j], 16, 64)
		if err != nil || (i < 3) != (j < len(s)) {
			return id, false
		}
		id[i] = v
		if j < len(s) {
			s = s[j+1:]
		}
	}
	return id, true
}

// Record is the decision of one request: the store key of the login that
// answers it, and the variants of the entry's fields it was answered for.
type Record struct {
	Question string
	LoginKey string
	Variants []Variant
}

// Variant is how a request is answered for a login entry of given fields.
type Variant struct {
	// Key is VariantKey of the entry's fields.
	Key string
	// User is the username to answer with; with FromRecord set, the
	// entry's server.username replaces it unless empty.
	User       string
	FromRecord bool
	// UserFixed is gitproto.Answer's userFixed, Auth its auth.
	UserFixed bool
	Auth      string
}

// Git is the question of git's get: its protocol, host and path.
func Git(protocol, host, path string) string {
	return "git\x00" + protocol + "\x00" + host + "\x00" + path
}

// Docker is the question of docker's get of serverURL.
func Docker(serverURL string) string { return "docker\x00" + serverURL }

// Token is the question of `oidc-auth token arg`.
func Token(arg string) string { return "token\x00" + arg }

// Issuer is the question of `oidc-auth kubectl --issuer issuer
// --client-id clientID`.
func Issuer(issuer, clientID string) string { return "issuer\x00" + issuer + "\x00" + clientID }

// VariantKey is the key of the entry fields a decision depends on: the
// recorded server's host, issuer and redirect ports (each string after
// its length, so that no two differ only in where one ends).
func VariantKey(host, issuer string, ports []int) string {
	b := make([]byte, 0, len(host)+len(issuer)+8+6*len(ports))
	b = append(append(strconv.AppendInt(b, int64(len(host)), 10), ':'), host...)
	b = append(append(strconv.AppendInt(b, int64(len(issuer)), 10), ':'), issuer...)
	for i, p := range ports {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(p), 10)
	}
	return string(b)
}

// Find returns the record of question in recs, nil for none.
func Find(recs []Record, question string) *Record {
	for i := range recs {
		if recs[i].Question == question {
			return &recs[i]
		}
	}
	return nil
}

// Variant returns the variant of key, nil for none.
func (r *Record) Variant(key string) *Variant {
	for i := range r.Variants {
		if r.Variants[i].Key == key {
			return &r.Variants[i]
		}
	}
	return nil
}

// Add returns recs with v added to the record of question (made first,
// with loginKey, if there is none, or if its login key differs), the
// latest record and variant first, within the limits.
func Add(recs []Record, question, loginKey string, v Variant) []Record {
	r := Record{Question: question, LoginKey: loginKey, Variants: []Variant{v}}
	if old := Find(recs, question); old != nil && old.LoginKey == loginKey {
		for _, o := range old.Variants {
			if o.Key != v.Key && len(r.Variants) < MaxVariants {
				r.Variants = append(r.Variants, o)
			}
		}
	}
	out := []Record{r}
	for _, o := range recs {
		if o.Question != question && len(out) < MaxRecords {
			out = append(out, o)
		}
	}
	return out
}

// Encode returns the file of recs for key.
func Encode(k Key, recs []Record) []byte {
	b := []byte(Magic)
	for _, v := range k.Exe {
		b = bincode.AppendU64(b, v)
	}
	b = bincode.AppendU64(bincode.AppendU64(b, k.Size), k.Sum)
	b = bincode.AppendUvarint(b, uint64(len(recs)))
	for _, r := range recs {
		b = bincode.AppendStr(b, r.Question, r.LoginKey)
		b = bincode.AppendUvarint(b, uint64(len(r.Variants)))
		for _, v := range r.Variants {
			b = bincode.AppendStr(b, v.Key, v.User)
			b = append(b, flag(v.FromRecord)|flag(v.UserFixed)<<1)
			b = bincode.AppendStr(b, v.Auth)
		}
	}
	return b
}

// Decode returns the records of file content b when it is of key; ok is
// false for a file of another config or core, and for anything damaged.
func Decode(b []byte, k Key) (recs []Record, ok bool) {
	d := bincode.NewDecoder(b)
	if string(d.Take(len(Magic))) != Magic {
		return nil, false
	}
	var got Key
	for i := range got.Exe {
		got.Exe[i] = d.U64()
	}
	got.Size, got.Sum = d.U64(), d.U64()
	if d.Bad() || got != k {
		return nil, false
	}
	n := d.Uvarint()
	if n > MaxRecords {
		return nil, false
	}
	for range n {
		r := Record{Question: d.Str(), LoginKey: d.Str()}
		m := d.Uvarint()
		if m > MaxVariants {
			return nil, false
		}
		for range m {
			v := Variant{Key: d.Str(), User: d.Str()}
			f := d.Byte()
			v.FromRecord, v.UserFixed = f&1 != 0, f&2 != 0
			v.Auth = d.Str()
			if f > 3 {
				d.Fail()
			}
			r.Variants = append(r.Variants, v)
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

func flag(b bool) byte {
	if b {
		return 1
	}
	return 0
}
