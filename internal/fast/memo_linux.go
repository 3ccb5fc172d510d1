package fast

import (
	"os"

	"github.com/oidc-auth/oidc-auth/internal/config"
	"github.com/oidc-auth/oidc-auth/internal/memo"
)

// remembering is set in oidc-auth-core (see Remember), with the identity
// the decisions are keyed by.
var (
	remembering bool
	coreID      [4]uint64
)

// Remember makes the answers of this process write down the decisions
// behind them, for the first stage of the commands (internal/lean), which
// answers from them without parsing the config: oidc-auth-core calls it,
// since the commands on Linux are that first stage and hand it what they
// cannot answer. The decisions are keyed by the identity the first stage
// passed in memo.CoreIDEnv, else by this program's file; Remember takes the
// variable out of the environment, which nothing the core starts needs.
func Remember() {
	id, ok := config.ExecutableID()
	if v, set := os.LookupEnv(memo.CoreIDEnv); set {
		os.Unsetenv(memo.CoreIDEnv)
		id, ok = memo.ParseID(v)
	}
	remembering, coreID = ok, id
}

// note writes down, when remembering, the decision behind f's answer to
// question: the username user (the entry's own for f.fromRecord), fixed
// and auth as gitproto.Answer took them. A decision already written is
// not written again.
func (f *found) note(question, user string, fixed bool, auth string) {
	if !remembering {
		return
	}
	path, err := config.ConfigPath()
	if err != nil {
		return
	}
	sum := f.sum
	if sum == (config.Sum{}) {
		var ok bool
		if sum, ok = config.ContentSum(path); !ok {
			return
		}
	}
	file, dir := config.MemoFile(path)
	if file == "" {
		return
	}
	v := memo.Variant{Key: memo.VariantKey(f.rec.Host, f.rec.Issuer, f.rec.RedirectPorts), User: user, UserFixed: fixed, Auth: auth}
	if f.fromRecord {
		v.User, v.FromRecord = config.DefaultUsername, true
	}
	k := memo.Key{Exe: coreID, Size: sum.Size, Sum: sum.Hash}
	recs, _ := memo.Decode(config.ReadMemo(file, dir), k)
	if r := memo.Find(recs, question); r != nil && r.LoginKey == f.key {
		if old := r.Variant(v.Key); old != nil && *old == v {
			return
		}
	}
	config.WriteMemo(file, dir, memo.Encode(k, memo.Add(recs, question, f.key, v)))
}
