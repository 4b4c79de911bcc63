package moderation

import (
	"context"
	"fmt"

	"maunium.net/go/mautrix/id"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/commands"
	"github.com/gavel-bot/gavel/notice"
)

// mediaChange is one of adminapi's calls that change a media item and
// return what it was before.
type mediaChange func(context.Context, id.ContentURI) (*adminapi.MediaInfo, error)

// changeMedia runs change on the item ref names (this server's when ref
// has no server) and words the result with reply.
func (m *Moderator) changeMedia(ctx context.Context, ref commands.MediaRef, change mediaChange,
	reply func(uri string, before *adminapi.MediaInfo) Outcome,
) Outcome {
	uri := id.ContentURI{Homeserver: ref.Server, FileID: ref.MediaID}
	if uri.Homeserver == "" {
		uri.Homeserver = m.serverName()
	}
	before, err := change(ctx, uri)
	if err != nil {
		return Failed("%s", m.explain(err, "media "+uri.String()))
	}
	return reply(uri.String(), before)
}

// changed says "Quarantined mxc://… (image/png, 12 KB, uploaded by …)."
func changed(past, uri string, before *adminapi.MediaInfo) Outcome {
	t := notice.New().Raw(past + " " + uri)
	return Done(notice.Media(t, before).Raw("."))
}

func (m *Moderator) quarantineMedia(ctx context.Context, c commands.QuarantineMedia) Outcome {
	return m.changeMedia(ctx, c.Media, m.Admin.QuarantineMedia, func(uri string, before *adminapi.MediaInfo) Outcome {
		switch {
		case before.Quarantined():
			return Done(notice.New().Raw("Already quarantined: " + uri + " (by " + string(before.QuarantinedBy) + ")."))
		case bool(before.SafeFromQuarantine):
			return Failed("Not quarantined: %s is protected. Run %sunprotect media %s first if it should be.", uri, m.Prefix, uri)
		}
		return changed("Quarantined", uri, before)
	})
}

func (m *Moderator) unquarantineMedia(ctx context.Context, c commands.UnquarantineMedia) Outcome {
	return m.changeMedia(ctx, c.Media, m.Admin.UnquarantineMedia, func(uri string, before *adminapi.MediaInfo) Outcome {
		if !before.Quarantined() {
			return Done(notice.New().Raw("Not quarantined, nothing to lift: " + uri + "."))
		}
		return changed("Lifted the quarantine of", uri, before)
	})
}

func (m *Moderator) protectMedia(ctx context.Context, c commands.ProtectMedia) Outcome {
	return m.changeMedia(ctx, c.Media, m.Admin.ProtectMedia, func(uri string, before *adminapi.MediaInfo) Outcome {
		return changed("Protected", uri, before)
	})
}

func (m *Moderator) unprotectMedia(ctx context.Context, c commands.UnprotectMedia) Outcome {
	return m.changeMedia(ctx, c.Media, m.Admin.UnprotectMedia, func(uri string, before *adminapi.MediaInfo) Outcome {
		return changed("Removed the protection of", uri, before)
	})
}

func (m *Moderator) quarantineRoom(ctx context.Context, c commands.QuarantineRoom) Outcome {
	roomID, err := m.resolveRoom(ctx, c.Room)
	if err != nil {
		return Failed("%s", err)
	}
	n, err := m.Admin.QuarantineRoomMedia(ctx, roomID)
	if err != nil {
		return Failed("%s", m.explain(err, "room "+string(roomID)))
	}
	t := notice.New().Raw(fmt.Sprintf("Quarantined %s in ", items(n))).Append(notice.RoomName(m.roomNamed(ctx, roomID)))
	return Done(t.Raw("."))
}

func (m *Moderator) quarantineUser(ctx context.Context, c commands.QuarantineUser) Outcome {
	n, err := m.Admin.QuarantineUserMedia(ctx, c.User)
	if err != nil {
		return Failed("%s", m.explain(err, "user "+string(c.User)))
	}
	t := notice.New().Raw(fmt.Sprintf("Quarantined %s uploaded by ", items(n))).User(string(c.User)).Raw(".")
	if n == 0 && c.User.Homeserver() != m.serverName() {
		t.Raw(" Only media uploaded to this server (" + m.serverName() + ") can be quarantined by user.")
	}
	return Done(t)
}

func items(n int) string { return notice.Count(n, "media item", "media items") }

// serverName is the homeserver's name: the part after the colon in the
// bot's own user id.
func (m *Moderator) serverName() string { return m.Matrix.UserID.Homeserver() }
