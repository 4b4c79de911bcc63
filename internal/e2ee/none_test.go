//go:build !goolm

package e2ee

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"maunium.net/go/mautrix"
)

// TestWithoutTheBuildTag: a build without goolm says how to get
// encryption instead of failing to compile.
func TestWithoutTheBuildTag(t *testing.T) {
	assert.False(t, Available)
	m, err := Start(context.Background(), &mautrix.Client{}, nil, "a pickle key")
	assert.Nil(t, m)
	assert.ErrorIs(t, err, ErrNotBuilt)
	assert.Contains(t, err.Error(), "go build -tags goolm")
}
