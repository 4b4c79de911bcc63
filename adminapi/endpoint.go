package adminapi

import "strings"

// routes are the paths this client requests, with every id, token or
// server name as a {placeholder}. Within a prefix and a number of
// segments, literal routes come first: /v1/media/protect/{media_id} is
// not media on a server named "protect".
var routes = []string{
	"/_matrix/client/v3/account/whoami",
	"/_synapse/admin/v1/server_version",
	"/_synapse/admin/v1/event_reports",
	"/_synapse/admin/v1/event_reports/{report_id}",
	"/_synapse/admin/v1/user_reports",
	"/_synapse/admin/v1/user_reports/{report_id}",
	"/_synapse/admin/v1/room_reports",
	"/_synapse/admin/v1/room_reports/{report_id}",
	"/_synapse/admin/v1/send_server_notice",
	"/_synapse/admin/v1/send_server_notice/{txn_id}",
	"/_synapse/admin/v1/media/protect/{media_id}",
	"/_synapse/admin/v1/media/unprotect/{media_id}",
	"/_synapse/admin/v1/media/quarantine/{server}/{media_id}",
	"/_synapse/admin/v1/media/unquarantine/{server}/{media_id}",
	"/_synapse/admin/v1/media/{server}/{media_id}",
	"/_synapse/admin/v1/room/{room_id}/media/quarantine",
	"/_synapse/admin/v1/room/{room_id}/media",
	"/_synapse/admin/v1/user/redact_status/{redact_id}",
	"/_synapse/admin/v1/user/{user_id}/media/quarantine",
	"/_synapse/admin/v1/user/{user_id}/redact",
	"/_synapse/admin/v1/users/{user_id}/admin",
	"/_synapse/admin/v1/users/{user_id}/media",
	"/_synapse/admin/v1/users/{user_id}/joined_rooms",
	"/_synapse/admin/v1/users/{user_id}/shadow_ban",
	"/_synapse/admin/v1/rooms/{room_id}/context/{event_id}",
	"/_synapse/admin/v1/rooms/{room_id}/block",
	"/_synapse/admin/v1/rooms/{room_id}",
	"/_synapse/admin/v1/deactivate/{user_id}",
	"/_synapse/admin/v1/suspend/{user_id}",
	"/_synapse/admin/v2/rooms/delete_status/{delete_id}",
	"/_synapse/admin/v2/rooms/{room_id}",
	"/_synapse/admin/v2/users/{user_id}",
}

var routeSegments = func() [][]string {
	out := make([][]string, len(routes))
	for i, r := range routes {
		out[i] = strings.Split(strings.TrimPrefix(r, "/"), "/")
	}
	return out
}()

// Endpoint names a request by its method and route, with the ids left
// out: "GET /_synapse/admin/v1/event_reports/{report_id}". It is safe as a
// metric label: a path that is none of this client's routes is "other",
// so no id, user or server name ever comes through. path may carry the
// homeserver URL's own path before /_synapse or /_matrix, and escapes.
func Endpoint(method, path string) string {
	if i := strings.Index(path, "/_synapse/admin/"); i >= 0 {
		path = path[i:]
	} else if i := strings.Index(path, "/_matrix/client/"); i >= 0 {
		path = path[i:]
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, route := range routeSegments {
		if matches(route, segs) {
			return knownMethod(method) + " " + routes[i]
		}
	}
	return knownMethod(method) + " other"
}

func matches(route, segs []string) bool {
	if len(route) != len(segs) {
		return false
	}
	for i, r := range route {
		if strings.HasPrefix(r, "{") {
			if segs[i] == "" {
				return false
			}
		} else if r != segs[i] {
			return false
		}
	}
	return true
}

// knownMethod keeps the label's method to the ones the client uses.
func knownMethod(method string) string {
	switch method {
	case "GET", "POST", "PUT", "DELETE":
		return method
	}
	return "OTHER"
}
