package bottest

import (
	"bytes"
	"os"
	"path/filepath"
	"time"

	"github.com/gavel-bot/gavel/internal/testkit/synapsetest"
	"github.com/stretchr/testify/require"
)

// Running Gavel as a separate process, to kill it with SIGKILL.

// StartProcess runs the gavel binary (built once, as make build does) with
// the environment's config; its log goes to logFile.
func (e *Env) StartProcess(logFile *os.File) *synapsetest.Process {
	e.T.Helper()
	cfgPath := filepath.Join(e.T.TempDir(), "config.yaml")
	cfg := *e.Cfg
	cfg.Logging.Level = "debug"
	require.NoError(e.T, synapsetest.WriteConfig(cfgPath, &cfg))
	p, err := synapsetest.StartBinary(synapsetest.Binary(e.T), cfgPath, logFile)
	require.NoError(e.T, err)
	e.T.Cleanup(p.Kill)
	return p
}

// ProcessLog is the file the gavel processes of a test log to, shown when
// the test fails.
func (e *Env) ProcessLog() *os.File {
	t := e.T
	t.Helper()
	logFile, err := os.Create(filepath.Join(t.TempDir(), "gavel.log"))
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(logFile.Name())
			t.Logf("gavel's log:\n%s", log)
		}
	})
	return logFile
}

// WaitStarted waits until the gavel processes logging to logFile have
// started n times in all: messages sent earlier are history to them.
func (e *Env) WaitStarted(logFile *os.File, n int) {
	e.T.Helper()
	require.Eventuallyf(e.T, func() bool {
		log, err := os.ReadFile(logFile.Name())
		require.NoError(e.T, err)
		return bytes.Count(log, []byte("Gavel started")) >= n
	}, time.Minute, 50*time.Millisecond, "waiting for gavel to start (%d)", n)
}
