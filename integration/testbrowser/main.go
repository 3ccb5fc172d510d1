// Command testbrowser is a minimal web browser for end-to-end tests, meant to
// be named in $BROWSER.
//
// Usage:
//
//	testbrowser [ignored…] URL
//
// It GETs URL, follows redirects among loopback hosts (127.0.0.0/8, ::1,
// localhost) such as an authorization server and a client's
// http://localhost:PORT/callback, and exits 0 when the final response is 2xx
// and 1 otherwise. It writes nothing to stdout and one summary line to stderr:
// the final URL without its query, so no authorization code leaks, and the
// status.
//
// Environment:
//
//	TESTBROWSER_LOG    file to which the given URL is appended as one line
//	TESTBROWSER_DELAY  duration (time.ParseDuration) to wait before fetching
//	TESTBROWSER_CA     PEM file of extra certificates to trust for https
//	SSL_CERT_FILE      honoured as by every Go program on Unix
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"time"
)

// config is what the environment tells the browser.
type config struct {
	logFile string
	delay   time.Duration
	caFile  string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "testbrowser: usage: testbrowser URL")
		return 1
	}
	target := args[len(args)-1]
	cfg := config{logFile: getenv("TESTBROWSER_LOG"), caFile: getenv("TESTBROWSER_CA")}
	if d := getenv("TESTBROWSER_DELAY"); d != "" {
		var err error
		if cfg.delay, err = time.ParseDuration(d); err != nil {
			fmt.Fprintf(stderr, "testbrowser: TESTBROWSER_DELAY: %v\n", err)
			return 1
		}
	}
	if err := browse(ctx, cfg, target, stderr); err != nil {
		fmt.Fprintf(stderr, "testbrowser: %v\n", err)
		return 1
	}
	return 0
}

// browse logs target, waits, fetches it and reports the final answer.
func browse(ctx context.Context, cfg config, target string, stderr io.Writer) error {
	if cfg.logFile != "" {
		f, err := os.OpenFile(cfg.logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("open log: %w", err)
		}
		_, werr := fmt.Fprintln(f, target)
		if err := errors.Join(werr, f.Close()); err != nil {
			return fmt.Errorf("write log: %w", err)
		}
	}
	if cfg.delay > 0 {
		t := time.NewTimer(cfg.delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	client, err := newClient(cfg.caFile)
	if err != nil {
		return err
	}
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("parse url: %w", err)
	}
	if !loopback(u) {
		return fmt.Errorf("refusing non-loopback url %s", redact(u))
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		// The error text quotes the URL, which may carry a code.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			if fu, perr := url.Parse(uerr.URL); perr == nil {
				return fmt.Errorf("GET %s: %w", redact(fu), uerr.Err)
			}
			return fmt.Errorf("GET: %w", uerr.Err)
		}
		return fmt.Errorf("GET: %w", err)
	}
	_, rerr := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	fmt.Fprintf(stderr, "testbrowser: %s %d\n", redact(resp.Request.URL), resp.StatusCode)
	if rerr != nil {
		return fmt.Errorf("read body: %w", rerr)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("final status %d", resp.StatusCode)
	}
	return nil
}

// newClient returns a client that follows up to 10 redirects among loopback
// hosts and trusts the certificates in caFile besides the system's.
func newClient(caFile string) (*http.Client, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	if caFile != "" {
		pemData, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read TESTBROWSER_CA: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("TESTBROWSER_CA %s holds no certificate", caFile)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			if !loopback(req.URL) {
				return fmt.Errorf("refusing redirect to non-loopback url %s", redact(req.URL))
			}
			return nil
		},
	}, nil
}

// loopback reports whether u is http(s) on a loopback host.
func loopback(u *url.URL) bool {
	if u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redact returns u without query and fragment.
func redact(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment, c.RawFragment, c.User = "", "", "", nil
	return c.String()
}
