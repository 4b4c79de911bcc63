package notice

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// !status opens with the versions, Gavel's as gavel -version prints it,
// and names each instance's version.
func TestStatusReplyNamesTheVersions(t *testing.T) {
	now := time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC)
	plain := StatusReply(Status{
		Version: "0.2.0-dev+455a6d7", SynapseVersion: "1.160.0", Database: "sqlite3",
		LastPoll: now.Add(-2 * time.Second),
		Instances: []Instance{
			{Name: "gavel-a pid 812", Version: "0.2.0-dev+455a6d7", Active: true, SeenAt: now},
			{Name: "gavel-b pid 97", Version: "v0.2.0", SeenAt: now.Add(-time.Second)},
		},
	}, now).Plain()
	first, _, _ := strings.Cut(plain, "\n")
	assert.Equal(t, "Gavel 0.2.0-dev+455a6d7 · Synapse 1.160.0 · database sqlite3", first)
	assert.Contains(t, plain, "gavel-a pid 812 (0.2.0-dev+455a6d7, active), gavel-b pid 97 (v0.2.0, standby, seen")
}
