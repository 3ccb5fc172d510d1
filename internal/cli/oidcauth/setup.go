package oidcauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/helper/kubeconfig"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// setupCommand configures git, docker (with the containers/image tools)
// and helm to ask the helpers.
func (a *app) setupCommand(onUsage cli.OnUsageErrorFunc) *cli.Command {
	hostFlag := &cli.StringFlag{Name: "host", Usage: "the py-oidc-auth server whose tokens to hand out (https:// when it names no scheme; default: the only stored login)"}
	userFlag := &cli.StringFlag{Name: "username", Usage: "the username to hand out with the token (default: oauth2)"}
	unsetFlag := &cli.BoolFlag{Name: "unset", Usage: "undo the setup"}
	issuerFlag := &cli.StringFlag{Name: "issuer", Usage: "instead of --host: a standard OpenID Provider's issuer URL (with --client-id)"}
	clientFlag := &cli.StringFlag{Name: "client-id", Usage: "with --issuer: the provider's client id"}
	return &cli.Command{
		Name: "setup",
		UsageText: "oidc-auth setup git URL | docker REGISTRY | helm REGISTRY [--host HOST] [--unset]\n" +
			"oidc-auth setup kubectl HOST | --issuer URL --client-id ID [--context NAME] [--print] [--unset]",
		Usage: "make git, docker (and skopeo, podman, buildah), helm or kubectl ask oidc-auth for credentials",
		Subcommands: []*cli.Command{
			{
				Name:      "git",
				Usage:     "answer git's credential requests for URL with HOST's tokens",
				ArgsUsage: "URL",
				Description: "Adds a [[server]] entry to the config file and runs\n" +
					"git config --global credential.URL.helper oidc (after an empty helper line, so\n" +
					"that no generic helper answers first), plus credential.URL.useHttpPath when\n" +
					"URL has a path.",
				Flags:        []cli.Flag{hostFlag, issuerFlag, clientFlag, userFlag, unsetFlag},
				OnUsageError: onUsage,
				Action:       a.setupGit,
			},
			{
				Name:      "docker",
				Usage:     "answer docker's credential requests for REGISTRY with HOST's tokens",
				ArgsUsage: "REGISTRY",
				Description: "Adds a [[server]] entry to the config file and a credHelpers entry to\n" +
					"$DOCKER_CONFIG/config.json (default ~/.docker), which skopeo, podman and\n" +
					"buildah read too. With --creds-store it makes oidc-auth docker's credsStore\n" +
					"for every registry instead, and, since skopeo, podman and buildah ignore\n" +
					"credsStore, writes " + "~/.config/containers/registries.conf.d/99-oidc-auth.conf\n" +
					"with credential-helpers = [\"oidc\", \"containers-auth.json\"] for them.",
				Flags: []cli.Flag{hostFlag, issuerFlag, clientFlag, userFlag, unsetFlag,
					&cli.BoolFlag{Name: "creds-store", Usage: "set credsStore instead of a credHelpers entry, and make skopeo, podman and buildah ask oidc-auth first too"}},
				OnUsageError: onUsage,
				Action:       a.setupDocker,
			},
			{
				Name:      "helm",
				Usage:     "answer helm's credential requests for REGISTRY with HOST's tokens",
				ArgsUsage: "REGISTRY",
				Description: "Adds a [[server]] entry to the config file and a credHelpers entry to helm's\n" +
					"registry config: $HELM_REGISTRY_CONFIG, else registry/config.json in\n" +
					"$HELM_CONFIG_HOME, $XDG_CONFIG_HOME/helm or helm's default directory\n" +
					"(~/.config/helm, ~/Library/Preferences/helm on macOS, %APPDATA%\\helm on\n" +
					"Windows).",
				Flags:        []cli.Flag{hostFlag, issuerFlag, clientFlag, userFlag, unsetFlag},
				OnUsageError: onUsage,
				Action:       a.setupHelm,
			},
			{
				Name:      "kubectl",
				Usage:     "make kubectl get its tokens from HOST (or a standard provider) through oidc-auth",
				ArgsUsage: "HOST | --issuer URL --client-id ID",
				Description: "Adds a users[] entry whose exec block runs `oidc-auth kubectl HOST` to the\n" +
					"kubeconfig (the first file of $KUBECONFIG, else ~/.kube/config), keeping the\n" +
					"rest of the file as it is; --context makes that context use it. A standard\n" +
					"provider's ID token is handed out, which Kubernetes' OIDC authenticator\n" +
					"checks. A confidential client's secret never goes into the kubeconfig: log in\n" +
					"with it once, or put client_secret in a [[server]] entry of the config file.",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "issuer", Usage: "instead of HOST: a standard OpenID Provider's issuer URL (with --client-id)"},
					clientFlag,
					&cli.StringFlag{Name: "client-secret", Hidden: true}, // refused, with the reason
					&cli.BoolFlag{Name: "access-token", Usage: "with --issuer: hand out the access token instead of the ID token"},
					&cli.StringFlag{Name: "context", Usage: "make this kubeconfig context use the user"},
					&cli.StringFlag{Name: "user", Usage: "the name of the kubeconfig user (default: oidc-<host>)"},
					&cli.BoolFlag{Name: "print", Usage: "print the users[] entry instead of writing it"},
					unsetFlag,
				},
				OnUsageError: onUsage,
				Action:       a.setupKubectl,
			},
		},
	}
}

// setupRequest is what one setup command was asked: the URL or registry
// to answer for, and the server whose tokens to answer with.
type setupRequest struct {
	target string
	server helper.Server
	// logins are the logins stored when the command started; storeRead
	// says whether the store could be read for them.
	logins    []keyring.Entry
	storeRead bool
}

// setupArgs reads a setup command's arguments: the one positional
// argument, what (URL or REGISTRY), and the server, from --host or
// --issuer with --client-id or else the only stored login. Everything
// missing is reported at once.
func (a *app) setupArgs(c *cli.Context, what string) (*setupRequest, error) {
	var missing []string
	req := &setupRequest{target: strings.TrimSpace(c.Args().First())}
	switch {
	case c.NArg() > 1:
		return nil, usagef(c, "setup %s takes one %s, got %d arguments", c.Command.Name, what, c.NArg())
	case req.target == "":
		missing = append(missing, what)
	}
	host, issuer, clientID := strings.TrimSpace(c.String("host")), strings.TrimSpace(c.String("issuer")), strings.TrimSpace(c.String("client-id"))
	unset := c.Bool("unset")
	if _, entries, err := a.logins(c); err == nil && !unset {
		req.storeRead = true
		for _, e := range entries {
			if e.Key != "" { // not the bare token of $OIDC_TOKEN_FILE
				req.logins = append(req.logins, e)
			}
		}
	}
	var others string // the stored logins to choose from
	switch {
	case unset:
	case host != "" && issuer != "":
		return nil, usagef(c, "give either --host or --issuer, not both")
	case issuer != "" && clientID == "":
		missing = append(missing, "--client-id (the provider's client that --issuer goes with)")
	case clientID != "" && issuer == "":
		missing = append(missing, "--issuer (the provider that --client-id belongs to)")
	case host != "":
		req.server = helper.Server{Host: flows.WithScheme(host)}
	case issuer != "":
		req.server = helper.Server{Issuer: issuer, ClientID: clientID}
	case len(req.logins) == 1:
		req.server = serverOf(req.logins[0])
		fmt.Fprintf(a.stderr, "Using %s, the only stored login (--host chooses another).\n", helper.Flows(&req.server).Name())
	default:
		missing = append(missing, "--host, the py-oidc-auth server to get tokens from (or --issuer and --client-id, an OpenID Provider)")
		if len(req.logins) > 1 {
			var names []string
			for _, e := range req.logins {
				s := serverOf(e)
				names = append(names, helper.Flows(&s).Name())
			}
			others = fmt.Sprintf("; %d logins are stored, choose one: %s", len(names), strings.Join(names, ", "))
		}
	}
	if len(missing) > 0 {
		list := missing[0]
		if len(missing) > 1 {
			list = strings.Join(missing[:len(missing)-1], ", ") + " and " + missing[len(missing)-1]
		}
		return nil, usagef(c, "setup %s needs %s%s", c.Command.Name, list, others)
	}
	req.server.Match = req.target
	req.server.Username = c.String("username")
	return req, nil
}

// serverOf is the config entry's server for a stored login.
func serverOf(e keyring.Entry) helper.Server {
	if e.Server != nil && e.Server.Issuer != "" {
		return helper.Server{Issuer: e.Server.Issuer, ClientID: e.Server.ClientID}
	}
	if e.Server != nil && e.Server.Host != "" {
		return helper.Server{Host: e.Server.Host}
	}
	return helper.Server{Host: e.Key}
}

// loggedIn reports whether req's logins hold one for its server.
func (req *setupRequest) loggedIn() bool {
	key, err := helper.Flows(&req.server).Key()
	if err != nil {
		return false
	}
	for _, e := range req.logins {
		if e.Key == key {
			return true
		}
	}
	return false
}

// next says what to run after a setup: the login, when there is none for
// the server, then the command that uses it.
func (a *app) next(req *setupRequest, try string) {
	if req.storeRead && !req.loggedIn() {
		fmt.Fprintf(a.stderr, "Next: log in with `%s`, then try `%s`.\n", helper.Flows(&req.server).LoginCommand(), try)
		return
	}
	fmt.Fprintf(a.stderr, "Next: try `%s`.\n", try)
}

// addEntry writes the config entry of req.
func (a *app) addEntry(c *cli.Context, req *setupRequest) error {
	path, err := helper.ConfigPath()
	if err != nil {
		return err
	}
	if err := helper.AddServer(path, req.server); err != nil {
		return usagef(c, "%s", helper.Describe(err))
	}
	fmt.Fprintf(a.stderr, "Wrote %s: %s answers with tokens of %s.\n", path, req.target, helper.Flows(&req.server).Name())
	return nil
}

// removeEntry removes the config entry for match; it reports whether
// there was one.
func (a *app) removeEntry(match string) (bool, error) {
	path, err := helper.ConfigPath()
	if err != nil {
		return false, err
	}
	found, err := helper.RemoveServer(path, match)
	if err != nil {
		return false, err
	}
	if found {
		fmt.Fprintf(a.stderr, "Removed %s from %s.\n", match, path)
	}
	return found, nil
}

func (a *app) setupGit(c *cli.Context) error {
	req, err := a.setupArgs(c, "URL")
	if err != nil {
		return err
	}
	target := flows.WithScheme(req.target)
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return usagef(c, "%q is not a URL like https://git.example.org/team/", req.target)
	}
	req.target, req.server.Match = target, target
	section := "credential." + target
	if c.Bool("unset") {
		asked := gitAsksHelper(c.Context, section+".helper")
		removed, err := a.removeEntry(target)
		if err != nil {
			return err
		}
		for _, key := range []string{".helper", ".useHttpPath"} {
			if err := gitConfig(c.Context, "--unset-all", section+key); err != nil {
				return err
			}
		}
		if !asked && !removed {
			fmt.Fprintf(a.stderr, "Nothing to undo: git does not ask oidc-auth for %s.\n", target)
			return nil
		}
		fmt.Fprintf(a.stderr, "git no longer asks oidc-auth for %s.\n", target)
		return nil
	}
	if err := a.addEntry(c, req); err != nil {
		return err
	}
	steps := [][]string{
		{"--unset-all", section + ".helper"},
		{"--add", section + ".helper", ""},
		{"--add", section + ".helper", helper.HelperName},
	}
	if strings.Trim(u.Path, "/") != "" {
		steps = append(steps, []string{section + ".useHttpPath", "true"})
	}
	for _, args := range steps {
		if err := gitConfig(c.Context, args...); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.stderr, "git now asks git-credential-oidc for %s.\n", target)
	warnStorageHelpers(c.Context, a.stderr, target)
	a.next(req, "git clone "+strings.TrimRight(target, "/")+"/…")
	return nil
}

// gitAsksHelper reports whether git's global config names this helper
// under key.
func gitAsksHelper(ctx context.Context, key string) bool {
	out, err := exec.CommandContext(ctx, "git", "config", "--global", "--get-all", key).Output()
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(l) == helper.HelperName {
			return true
		}
	}
	return false
}

// gitConfig runs git config --global; unsetting a key that is not set is
// not an error.
func gitConfig(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", append([]string{"config", "--global"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 5 && args[0] == "--unset-all" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("git config --global %s failed: %v %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// setupRegistry reads setup docker's or setup helm's arguments, the
// REGISTRY lowercased: the tools look credHelpers up by the exact host
// they resolved, which is lowercase.
func (a *app) setupRegistry(c *cli.Context) (*setupRequest, error) {
	req, err := a.setupArgs(c, "REGISTRY")
	if err != nil {
		return nil, err
	}
	if strings.Contains(req.target, "://") || strings.Contains(req.target, "/") {
		return nil, usagef(c, "%q is not a registry host like registry.example.org or 127.0.0.1:5000", req.target)
	}
	req.target = strings.ToLower(req.target)
	req.server.Match = req.target
	return req, nil
}

// removeEntryUnlessAsked removes the config entry of registry (as
// removeEntry does) unless the other tool's config file at path still
// asks oidc-auth for it, which the entry must keep answering; it reports
// whether it removed or kept one.
func (a *app) removeEntryUnlessAsked(registry, path, tool, undo string) (bool, error) {
	// A file that cannot be read (or no path) asks nothing: it must not
	// keep this tool's setup from being undone.
	if asked, err := helper.AsksHelper(path, registry); err == nil && asked {
		cfg, _ := helper.ConfigPath()
		fmt.Fprintf(a.stderr, "Kept %s in %s: %s still asks oidc-auth for it (undo that with %s).\n", registry, cfg, tool, undo)
		return true, nil
	}
	return a.removeEntry(registry)
}

func (a *app) setupDocker(c *cli.Context) error {
	req, err := a.setupRegistry(c)
	if err != nil {
		return err
	}
	registry := req.target
	unset, credsStore := c.Bool("unset"), c.Bool("creds-store")
	if !unset {
		if err := a.addEntry(c, req); err != nil {
			return err
		}
	}
	dir, err := helper.DockerConfigDir()
	if err != nil {
		return err
	}
	changed := false
	if unset {
		changed, err = helper.DockerHelperSet(filepath.Join(dir, "config.json"), registry, credsStore)
		if err != nil {
			return err
		}
	}
	if err := helper.SetDockerHelper(dir, registry, credsStore, unset); err != nil {
		return err
	}
	if credsStore {
		conf, err := helper.DefaultContainersConf()
		if err != nil {
			return err
		}
		confChanged, err := conf.SetHelper(unset)
		if err != nil {
			return err
		}
		changed = changed || confChanged
		switch {
		case confChanged && unset:
			fmt.Fprintf(a.stderr, "Removed %s: skopeo, podman and buildah no longer ask oidc-auth.\n", conf.DropInPath())
		case confChanged:
			fmt.Fprintf(a.stderr, "Wrote %s: skopeo, podman and buildah ask docker-credential-oidc first for every registry.\n", conf.DropInPath())
		}
	}
	if unset {
		helm, _ := helper.HelmRegistryConfigPath() // none: helm asks nothing
		removed, err := a.removeEntryUnlessAsked(registry, helm, "helm", "oidc-auth setup helm "+registry+" --unset")
		if err != nil {
			return err
		}
		if !changed && !removed {
			fmt.Fprintf(a.stderr, "Nothing to undo: docker does not ask oidc-auth for %s.\n", registry)
			return nil
		}
	}
	switch {
	case unset:
		fmt.Fprintf(a.stderr, "docker no longer asks oidc-auth for %s.\n", registry)
		return nil
	case credsStore:
		fmt.Fprintf(a.stderr, "docker now keeps all registry credentials with docker-credential-oidc; %s gets tokens.\n", registry)
	default:
		fmt.Fprintf(a.stderr, "docker (and skopeo, podman, buildah, which read its credHelpers) now asks docker-credential-oidc for %s.\n", registry)
	}
	a.next(req, "docker pull "+registry+"/…")
	return nil
}

func (a *app) setupHelm(c *cli.Context) error {
	req, err := a.setupRegistry(c)
	if err != nil {
		return err
	}
	registry := req.target
	unset := c.Bool("unset")
	if !unset {
		if err := a.addEntry(c, req); err != nil {
			return err
		}
	}
	path, err := helper.HelmRegistryConfigPath()
	if err != nil {
		return err
	}
	changed := false
	if unset {
		if changed, err = helper.DockerHelperSet(path, registry, false); err != nil {
			return err
		}
	}
	if err := helper.SetHelmHelper(path, registry, unset); err != nil {
		return err
	}
	if unset {
		docker := ""
		if dir, err := helper.DockerConfigDir(); err == nil { // none: docker asks nothing
			docker = filepath.Join(dir, "config.json")
		}
		removed, err := a.removeEntryUnlessAsked(registry, docker, "docker", "oidc-auth setup docker "+registry+" --unset")
		if err != nil {
			return err
		}
		if !changed && !removed {
			fmt.Fprintf(a.stderr, "Nothing to undo: helm does not ask oidc-auth for %s (%s).\n", registry, path)
			return nil
		}
		fmt.Fprintf(a.stderr, "helm no longer asks oidc-auth for %s (%s).\n", registry, path)
		return nil
	}
	fmt.Fprintf(a.stderr, "helm now asks docker-credential-oidc for %s (%s).\n", registry, path)
	a.next(req, "helm pull oci://"+registry+"/…")
	return nil
}

func (a *app) setupKubectl(c *cli.Context) error {
	if c.IsSet("client-secret") {
		path, _ := helper.ConfigPath()
		return usagef(c, "setup kubectl does not take --client-secret: kubectl would pass it as an argument, which other users can see, from a kubeconfig that is often shared; log in once with `oidc-auth login --issuer … --client-id … --client-secret …` (the login keeps it), or put client_secret in a [[server]] entry of %s", path)
	}
	var server helper.Server
	issuer, clientID := strings.TrimSpace(c.String("issuer")), strings.TrimSpace(c.String("client-id"))
	switch {
	case issuer != "" && c.NArg() > 0:
		return usagef(c, "give either HOST or --issuer, not both")
	case issuer != "" && clientID == "":
		return usagef(c, "--issuer needs --client-id")
	case issuer != "":
		server = helper.Server{Issuer: issuer, ClientID: clientID}
	case clientID != "":
		return usagef(c, "--client-id goes with --issuer")
	case c.Bool("access-token"):
		return usagef(c, "--access-token goes with --issuer: a py-oidc-auth server's token is always its access token")
	default:
		host, err := oneHost(c)
		if err != nil {
			return err
		}
		server = helper.Server{Host: strings.TrimRight(flows.WithScheme(host), "/")}
	}
	if _, err := helper.Flows(&server).Key(); err != nil {
		return usagef(c, "%s", message(err))
	}
	user := strings.TrimSpace(c.String("user"))
	if user == "" {
		user = helper.KubectlUserName(server)
	}
	context := strings.TrimSpace(c.String("context"))
	block := helper.KubectlExecFor(server, c.Bool("access-token"))
	if c.Bool("print") {
		if c.Bool("unset") {
			return usagef(c, "give either --print or --unset, not both")
		}
		b, err := kubeconfig.UserYAML(block, user)
		if err != nil {
			return err
		}
		_, err = a.stdout.Write(b)
		if err == nil && context != "" {
			fmt.Fprintf(a.stderr, "Then make the context use it: kubectl config set-context %s --user %s\n", context, user)
		}
		return err
	}
	path, err := kubeconfig.Path()
	if err != nil {
		return err
	}
	kc, err := kubeconfig.Load(path)
	if err != nil {
		return err
	}
	if c.Bool("unset") {
		removed, err := kc.RemoveUser(user, helper.KubectlCommand)
		if err != nil {
			return err
		}
		if !removed {
			fmt.Fprintf(a.stderr, "Nothing to undo: %s has no user %s.\n", path, user)
			return nil
		}
		if err := kc.Save(); err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "Removed the user %s from %s: kubectl no longer asks oidc-auth for it.\n", user, path)
		if using := kc.ContextsUsing(user); len(using) > 0 {
			fmt.Fprintf(a.stderr, "The context(s) %s still name it; point them at another user: kubectl config set-context %s --user …\n", strings.Join(using, ", "), using[0])
		}
		return nil
	}
	changed, err := kc.SetUser(user, block)
	if err != nil {
		return err
	}
	if context != "" {
		ctxChanged, err := kc.SetContextUser(context, user)
		if err != nil {
			return err
		}
		changed = changed || ctxChanged
	}
	if err := kc.Save(); err != nil {
		return err
	}
	if changed {
		fmt.Fprintf(a.stderr, "Wrote %s: the user %s gets its token from `oidc-auth %s`.\n", path, user, strings.Join(block.Args, " "))
	} else {
		fmt.Fprintf(a.stderr, "%s already has the user %s as it should be.\n", path, user)
	}
	if _, err := exec.LookPath(helper.KubectlCommand); err != nil {
		fmt.Fprintf(a.stderr, "Warning: %s is not on PATH, where kubectl looks for it; add its directory to PATH.\n", helper.KubectlCommand)
	}
	try := "kubectl --user " + user + " get pods"
	if context != "" {
		try = "kubectl --context " + context + " get pods"
	}
	req := &setupRequest{server: server}
	if _, entries, err := a.logins(c); err == nil {
		req.storeRead, req.logins = true, entries
	}
	a.next(req, try)
	return nil
}
