package mxid

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"
)

func TestValidateServerName(t *testing.T) {
	for _, ok := range []string{"example.org", "example.org:8448", "localhost", "1.2.3.4", "1.2.3.4:80", "[::1]", "[1234:5678::abcd]:8448", "a-b.example"} {
		assert.NoError(t, ValidateServerName(ok), ok)
	}
	for _, bad := range []string{"", "..", ".", ".example.org", "example..org", "example.org.", "exa mple.org", "example.org/x", "example.org:", "example.org:0", "example.org:99999", "example.org:abc", "[::1", "user@example.org", "example.org?x", "ex%2e.org"} {
		err := ValidateServerName(bad)
		assert.Error(t, err, bad)
		assert.True(t, isInvalidInput(err), bad)
	}
}

func TestValidateRoomID(t *testing.T) {
	for _, ok := range []id.RoomID{"!abc:example.org", "!abc:example.org:8448", "!AbC123xyz-_:[::1]", "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM"} {
		assert.NoError(t, ValidateRoomID(ok), ok)
	}
	for bad, reason := range map[id.RoomID]string{
		"":                         "must not be empty",
		"abc:example.org":          "must start with !",
		"#alias:example.org":       "room alias",
		"!":                        "nothing after the !",
		"!:example.org":            "nothing after the !",
		"!a b:example.org":         "spaces",
		"!abc:exa mple.org":        "not a valid server name",
		"!abc:..":                  "not a valid server name",
		"!abc\n:example.org":       "control",
		"!é:example.org":           "non-ASCII",
		"!a/../b:example.org":      "which no server puts in a room id",
		"!a%2Fb:example.org":       "which no server puts",
		"!a?x:example.org":         "which no server puts",
		"!a#x:example.org":         "which no server puts",
		`!a\b:example.org`:         "which no server puts",
		id.RoomID("!" + long(300)): "longer than 255",
	} {
		err := ValidateRoomID(bad)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), reason, bad)
		assert.True(t, isInvalidInput(err))
	}
}

func TestValidateUserID(t *testing.T) {
	for _, ok := range []id.UserID{"@alice:example.org", "@a.b=c_d+e:example.org:8448", "@Historic$Name:example.org", "@x:[::1]"} {
		assert.NoError(t, ValidateUserID(ok), ok)
	}
	for bad, reason := range map[id.UserID]string{
		"":                         "must not be empty",
		"alice:example.org":        "must start with @",
		"@alice":                   "server name after a colon",
		"@:example.org":            "empty name",
		"@al ice:example.org":      "spaces",
		"@a?b:example.org":         "which user ids do not have",
		"@a%2e:example.org":        "which user ids do not have",
		"@alice:exa/mple.org":      "not a valid server name",
		"@a/../admin:example.org":  "contains /, which Gavel refuses",
		"@alice:":                  "not a valid server name",
		id.UserID("@" + long(300)): "longer than 255",
	} {
		err := ValidateUserID(bad)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), reason, bad)
	}
}

func TestValidateMediaAndContentURI(t *testing.T) {
	assert.NoError(t, ValidateMediaID("AbC_12-x"))
	for _, bad := range []string{"", "a.b", "a/b", "..", "a b", "a%2Fb", "ä", long(300)} {
		assert.Error(t, ValidateMediaID(bad), bad)
	}
	uri, err := ParseContentURI("mxc://example.org/AbC_12-x")
	require.NoError(t, err)
	assert.Equal(t, id.ContentURI{Homeserver: "example.org", FileID: "AbC_12-x"}, uri)
	for _, bad := range []string{"", "mxc://", "mxc://example.org", "mxc://example.org/", "https://example.org/a", "mxc://example.org/a/b", "mxc://../a", "mxc://example.org/a.b", "mxc:///a"} {
		_, err := ParseContentURI(bad)
		assert.Error(t, err, bad)
		assert.True(t, isInvalidInput(err), bad)
	}
	assert.Error(t, ValidateContentURI(id.ContentURI{}))
}

func TestValidateReportID(t *testing.T) {
	assert.NoError(t, ValidateReportID(2))
	for _, bad := range []int64{0, -1, -9223372036854775808} {
		err := ValidateReportID(bad)
		assert.ErrorContains(t, err, "must be a positive number")
	}
}

func TestValidateRoomAlias(t *testing.T) {
	for _, ok := range []id.RoomAlias{"#room:example.org", "#räum:example.org:8448", "#a.b_c=d:[::1]"} {
		assert.NoError(t, ValidateRoomAlias(ok), ok)
	}
	for _, bad := range []id.RoomAlias{"", "room:example.org", "#room", "#:example.org", "#a b:example.org", "#a/b:example.org",
		"#a%2Fb:example.org", "#a\u200bb:example.org", "#room:..", "#\xff:example.org", id.RoomAlias("#" + long(300))} {
		err := ValidateRoomAlias(bad)
		assert.Error(t, err, bad)
		assert.True(t, isInvalidInput(err), bad)
	}
}

func TestInvalidInputErrorMessage(t *testing.T) {
	err := &InvalidInputError{What: "room id", Value: "x" + long(100), Reason: "must start with !"}
	assert.Equal(t, `invalid room id "x`+long(100)[:63]+`…": must start with !`, err.Error())
}

func isInvalidInput(err error) bool {
	var invalid *InvalidInputError
	return errors.As(err, &invalid)
}

func long(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b) + ":example.org"
}

func TestParseEvent(t *testing.T) {
	for _, c := range []struct {
		args  []string
		room  RoomRef
		event id.EventID
		rest  int
	}{
		{[]string{"https://matrix.to/#/!abc:example.org/$ev-1_x?via=example.org"}, RoomRef{ID: "!abc:example.org"}, "$ev-1_x", 0},
		{[]string{"https://matrix.to/#/%23lobby%3Aexample.org/%24ev", "--reason", "spam"}, RoomRef{Alias: "#lobby:example.org"}, "$ev", 2},
		{[]string{"matrix:roomid/abc:example.org/e/ev"}, RoomRef{ID: "!abc:example.org"}, "$ev", 0},
		{[]string{"!abc:example.org", "$ev"}, RoomRef{ID: "!abc:example.org"}, "$ev", 0},
		{[]string{"#lobby:example.org", "$ev:example.org", "x"}, RoomRef{Alias: "#lobby:example.org"}, "$ev:example.org", 1},
	} {
		room, event, rest, err := ParseEvent(c.args)
		require.NoError(t, err, c.args)
		assert.Equal(t, c.room, room)
		assert.Equal(t, c.event, event)
		assert.Len(t, rest, c.rest)
	}
	for args, want := range map[string][]string{
		"which event?":              nil,
		"is not a link to an event": {"!abc:example.org"},
		`"$a/../b" is not a valid event id: contains one of`: {"!abc:example.org", "$a/../b"},
		`"$a\x00b" is not a valid event id: contains spaces`: {"!abc:example.org", "$a\x00b"},
		"is not a link to an event: give":                    {"https://matrix.to/#/!a/../b:example.org/$ev"},
		"does not point to an event in a room":               {"https://matrix.to/#/!a%20b:example.org/$ev"},
		"is not a room":                                      {"abc", "$ev"},
	} {
		_, _, _, err := ParseEvent(want)
		assert.ErrorContains(t, err, args)
	}
}
