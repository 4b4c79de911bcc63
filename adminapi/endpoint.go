package adminapi

import "cmp"

// Endpoint names the request that failed by its method and route, with the
// ids left out: "GET /_synapse/admin/v1/event_reports/{report_id}". It is
// safe as a metric label: the route is the template the request was built
// from, never its path, so no id, user or server name comes through; a
// request without one is "other".
func (e *Error) Endpoint() string {
	return knownMethod(e.Method) + " " + cmp.Or(e.Route, "other")
}

// knownMethod keeps the label's method to the ones the client uses.
func knownMethod(method string) string {
	switch method {
	case "GET", "POST", "PUT", "DELETE":
		return method
	}
	return "OTHER"
}
