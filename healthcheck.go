package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gavel-bot/gavel/config"
)

// healthcheckTimeout bounds gavel -healthcheck: a container runtime kills
// a health check that hangs, and says less than this would.
const healthcheckTimeout = 5 * time.Second

// runHealthcheck asks the Gavel running with the configuration at path
// whether it is alive: its /healthz at metrics.listen. It exits 0 when the
// answer is 200 and 1 otherwise, saying why, so that a container's
// HEALTHCHECK needs no shell or curl.
func runHealthcheck(path string, stderr io.Writer) int {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, "gavel:", err)
		return 1
	}
	url, err := healthzURL(cfg.Metrics.Listen)
	if err != nil {
		fmt.Fprintln(stderr, "gavel:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "gavel:", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "gavel: unhealthy: %s did not answer (%v)\n", url, err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "gavel: unhealthy: %s answered %s\n", url, resp.Status)
		return 1
	}
	return 0
}

// healthzURL is where a Gavel serving its metrics at listen answers
// /healthz: an address that listens on every interface is asked on
// loopback.
func healthzURL(listen string) (string, error) {
	if listen == "" {
		return "", fmt.Errorf("-healthcheck asks the running Gavel's /healthz at metrics.listen, which is not set: set it (127.0.0.1:9110, say)")
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("metrics.listen: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
