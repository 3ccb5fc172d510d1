// Package kubeconfig edits the kubeconfig file kubectl reads, for
// `oidc-auth setup kubectl`: it adds, replaces and removes the user whose
// exec block runs oidc-auth, keeping the rest of the file as it was. It is
// a package of its own so that the YAML library it needs is in no binary
// but oidc-auth, and in no credential helper's start.
package kubeconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// Path returns the kubeconfig file kubectl writes to: the first
// file of $KUBECONFIG (a list, as PATH is), else ~/.kube/config.
func Path() (string, error) {
	for _, p := range filepath.SplitList(os.Getenv("KUBECONFIG")) {
		if p != "" {
			return p, nil
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("kubeconfig: no home directory for ~/.kube/config (%v); set KUBECONFIG", err)
	}
	return filepath.Join(home, ".kube", "config"), nil
}

// node is the users[] entry of name with e's exec block, as kubectl's own
// kubeconfig files spell it.
func node(e helper.KubectlExec, name string) *yaml.Node {
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	mapping := func(kv ...*yaml.Node) *yaml.Node {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: kv}
	}
	args := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, a := range e.Args {
		args.Content = append(args.Content, str(a))
	}
	exec := mapping(
		str("apiVersion"), str(helper.ExecAPIv1),
		str("command"), str(e.Command),
		str("args"), args,
		str("interactiveMode"), str("IfAvailable"),
		str("provideClusterInfo"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "false"},
	)
	if e.InstallHint != "" {
		exec.Content = append(exec.Content, str("installHint"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.InstallHint, Style: yaml.LiteralStyle})
	}
	return mapping(str("name"), str(name), str("user"), mapping(str("exec"), exec))
}

// UserYAML is the users[] entry of name with e's exec block, as YAML to
// paste into a kubeconfig's users list.
func UserYAML(e helper.KubectlExec, name string) ([]byte, error) {
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{node(e, name)}}
	return encodeYAML(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "users"}, seq,
	}})
}

// encodeYAML encodes n with two-space indentation and sequences flush
// with their key, the layout kubectl writes.
func encodeYAML(n *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("kubeconfig: encode kubeconfig: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("kubeconfig: encode kubeconfig: %w", err)
	}
	return b.Bytes(), nil
}

// File is a kubeconfig file read for an edit. Its YAML is kept as
// a node tree, so that an edit leaves every other part of the file as it
// was: order, comments, and fields this package does not know.
type File struct {
	path    string
	existed bool
	mode    fs.FileMode
	orig    []byte
	doc     *yaml.Node // the document node
	root    *yaml.Node // its mapping
}

// Load reads the kubeconfig at path; a missing or empty file is
// an empty kubeconfig. A path that is a symbolic link, or a file another
// user owns, is refused, as the token store refuses them: the file decides
// which program kubectl runs.
func Load(path string) (*File, error) {
	k := &File{path: path, mode: 0o600}
	b, fi, err := readOwnFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		k.existed, k.mode, k.orig = true, fi.Mode().Perm(), b
	}
	k.doc = &yaml.Node{Kind: yaml.DocumentNode}
	if len(bytes.TrimSpace(b)) > 0 {
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("kubeconfig: %s is not valid YAML (%v); fix it first", path, err)
		}
		if doc.Kind == yaml.DocumentNode {
			k.doc = &doc
		}
	}
	switch {
	case len(k.doc.Content) == 0:
		k.root = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if !k.existed || len(bytes.TrimSpace(b)) == 0 {
			k.root.Content = []*yaml.Node{scalar("apiVersion"), scalar("v1"), scalar("kind"), scalar("Config")}
		}
		k.doc.Content = []*yaml.Node{k.root}
	case k.doc.Content[0].Kind == yaml.MappingNode:
		k.root = k.doc.Content[0]
	default:
		return nil, fmt.Errorf("kubeconfig: %s is not a kubeconfig (its top level is no mapping); fix it first", path)
	}
	return k, nil
}

// Path is the file's path.
func (k *File) Path() string { return k.path }

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// get returns the value of key in mapping m, and its index in m.Content.
func get(m *yaml.Node, key string) (*yaml.Node, int) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, -1
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1], i
		}
	}
	return nil, -1
}

// list returns the sequence under key, or an error naming the file when
// the key holds something else; a missing or null key is an empty list.
func (k *File) list(key string) (*yaml.Node, error) {
	v, _ := get(k.root, key)
	if v == nil || v.Tag == "!!null" {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("kubeconfig: %s: %s is not a list; fix it first", k.path, key)
	}
	return v, nil
}

// named returns the index in seq of the entry whose name is name, or -1.
func named(seq *yaml.Node, name string) int {
	if seq == nil {
		return -1
	}
	for i, e := range seq.Content {
		if n, _ := get(e, "name"); n != nil && n.Value == name {
			return i
		}
	}
	return -1
}

// runsCommand reports whether the users[] entry e runs command (by its
// base name) as its exec plugin.
func runsCommand(e *yaml.Node, command string) bool {
	user, _ := get(e, "user")
	exec, _ := get(user, "exec")
	c, _ := get(exec, "command")
	if c == nil {
		return false
	}
	base := filepath.Base(c.Value)
	return strings.TrimSuffix(base, ".exe") == command
}

// SetUser adds the users[] entry name with e's exec block, or replaces
// the entry of that name when it runs e.Command already; an entry of that
// name that runs another program is refused. It reports whether the file
// changes.
func (k *File) SetUser(name string, e helper.KubectlExec) (bool, error) {
	users, err := k.list("users")
	if err != nil {
		return false, err
	}
	entry := node(e, name)
	if users == nil {
		users = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if _, i := get(k.root, "users"); i >= 0 {
			k.root.Content[i+1] = users
		} else {
			k.root.Content = append(k.root.Content, scalar("users"), users)
		}
	}
	i := named(users, name)
	if i < 0 {
		users.Content = append(users.Content, entry)
		return true, nil
	}
	if !runsCommand(users.Content[i], e.Command) {
		return false, fmt.Errorf("kubeconfig: %s already has a user %q that does not run %s; choose another name with --user, or remove it with `kubectl config delete-user %s`", k.path, name, e.Command, name)
	}
	old, err := encodeYAML(users.Content[i])
	if err != nil {
		return false, err
	}
	repl, err := encodeYAML(entry)
	if err != nil {
		return false, err
	}
	if bytes.Equal(old, repl) {
		return false, nil
	}
	entry.HeadComment, entry.LineComment, entry.FootComment = users.Content[i].HeadComment, users.Content[i].LineComment, users.Content[i].FootComment
	users.Content[i] = entry
	return true, nil
}

// RemoveUser removes the users[] entry name when it runs command (an
// empty list is left as "users: null", as kubectl writes it); it reports
// whether there was such an entry. An entry of that name that runs another program is
// refused.
func (k *File) RemoveUser(name, command string) (bool, error) {
	users, err := k.list("users")
	if err != nil {
		return false, err
	}
	i := named(users, name)
	if i < 0 {
		return false, nil
	}
	if !runsCommand(users.Content[i], command) {
		return false, fmt.Errorf("kubeconfig: the user %q of %s does not run %s; leaving it alone (remove it with `kubectl config delete-user %s`)", name, k.path, command, name)
	}
	users.Content = append(users.Content[:i], users.Content[i+1:]...)
	if len(users.Content) == 0 {
		// An empty list as kubectl writes it.
		_, j := get(k.root, "users")
		k.root.Content[j+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	return true, nil
}

// SetContextUser makes the context name use user; it reports whether
// that changes the file. A context the file does not have is an error.
func (k *File) SetContextUser(name, user string) (bool, error) {
	contexts, err := k.list("contexts")
	if err != nil {
		return false, err
	}
	i := named(contexts, name)
	if i < 0 {
		return false, fmt.Errorf("kubeconfig: %s has no context %q; `kubectl config get-contexts` lists them (with several files in $KUBECONFIG, only the first is edited)", k.path, name)
	}
	ctx, _ := get(contexts.Content[i], "context")
	if ctx == nil || ctx.Kind != yaml.MappingNode {
		return false, fmt.Errorf("kubeconfig: %s: the context %q has no context mapping; fix it first", k.path, name)
	}
	if v, _ := get(ctx, "user"); v != nil {
		if v.Value == user && v.Kind == yaml.ScalarNode {
			return false, nil
		}
		*v = *scalar(user)
		return true, nil
	}
	ctx.Content = append(ctx.Content, scalar("user"), scalar(user))
	return true, nil
}

// ContextsUsing returns the names of the contexts whose user is user.
func (k *File) ContextsUsing(user string) []string {
	contexts, _ := k.list("contexts")
	var names []string
	if contexts == nil {
		return nil
	}
	for _, e := range contexts.Content {
		ctx, _ := get(e, "context")
		if u, _ := get(ctx, "user"); u != nil && u.Value == user {
			if n, _ := get(e, "name"); n != nil {
				names = append(names, n.Value)
			}
		}
	}
	return names
}

// Save writes the file atomically with keyring.ReplaceFile (a temporary
// file beside it, renamed over it, retried on Windows while kubectl holds
// the file open), with the mode it had, 0600 for a new one; the directory
// is made 0700 when missing.
func (k *File) Save() error {
	b, err := encodeYAML(k.doc)
	if err != nil {
		return err
	}
	if k.existed && bytes.Equal(b, k.orig) {
		return nil
	}
	// The file may have been replaced since it was read.
	if _, _, err := readOwnFile(k.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := keyring.ReplaceFile(k.path, b, k.mode); err != nil {
		return fmt.Errorf("kubeconfig: the kubeconfig is not saved: %w", err)
	}
	k.orig, k.existed = b, true
	return nil
}

// readOwnFile reads the regular file at path without following a
// symbolic link, and refuses a file another user owns.
func readOwnFile(path string) ([]byte, fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("kubeconfig: %w", err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := filepath.EvalSymlinks(path)
		return nil, nil, fmt.Errorf("kubeconfig: %s is a symbolic link (to %s), which oidc-auth does not write through; run the setup with KUBECONFIG set to the file itself", path, target)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("kubeconfig: %s is not a regular file; set KUBECONFIG to a kubeconfig file", path)
	}
	if owner, ok := fileOwner(fi); ok && owner != os.Getuid() {
		return nil, nil, fmt.Errorf("kubeconfig: %s belongs to another user (uid %d), who could change which program kubectl runs; use a kubeconfig of your own (set KUBECONFIG)", path, owner)
	}
	f, err := openNoFollow(path)
	if err != nil {
		return nil, nil, fmt.Errorf("kubeconfig: %w", err)
	}
	defer f.Close()
	b := new(bytes.Buffer)
	if _, err := b.ReadFrom(f); err != nil {
		return nil, nil, fmt.Errorf("kubeconfig: read %s: %w", path, err)
	}
	return b.Bytes(), fi, nil
}
