package synapsetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Root returns the chroot that holds Synapse: GAVEL_SYNAPSE_ROOT, or
// gavel/synapse-sid in the user's cache directory, as scripts/synapse.sh
// has it.
func Root() string {
	if root := os.Getenv("GAVEL_SYNAPSE_ROOT"); root != "" {
		return root
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "/root"
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "gavel", "synapse-sid")
}

// ensureInstalled runs scripts/synapse.sh install when the chroot is not
// ready yet; the script prints its progress and serialises concurrent
// installs.
func ensureInstalled(ctx context.Context) (string, error) {
	root := Root()
	if _, err := os.Stat(filepath.Join(root, ".gavel-ready")); err == nil {
		return root, nil
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("no Synapse installed in %s, and installing it (debootstrap, chroot) needs root: run scripts/synapse.sh install as root", root)
	}
	script, err := findScript()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "synapsetest: Synapse is not installed yet; running %s install\n", script)
	cmd := exec.CommandContext(ctx, script, "install")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), "GAVEL_SYNAPSE_ROOT="+root)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("installing Synapse with %s failed: %w", script, err)
	}
	return root, nil
}

// findScript locates scripts/synapse.sh in the Gavel checkout that contains
// the working directory (tests run in their package's directory).
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		script := filepath.Join(dir, "scripts", "synapse.sh")
		if mod, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(mod), "module github.com/gavel-bot/gavel") {
			if _, err := os.Stat(script); err != nil {
				return "", fmt.Errorf("the Gavel checkout at %s has no scripts/synapse.sh", dir)
			}
			return script, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find scripts/synapse.sh: not inside the Gavel checkout")
		}
		dir = parent
	}
}

// randomString returns n (at most 26) random lowercase letters and digits.
func randomString(n int) string {
	return strings.ToLower(rand.Text()[:n])
}
