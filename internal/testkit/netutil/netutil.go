// Package netutil holds a small network helper shared by the test kits
// (pgtest, synapsetest) and the tests; it depends on the standard library
// only.
//
// Of Gavel's packages it may import: none.
package netutil

import (
	"fmt"
	"net"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. It
// can be taken by someone else before the caller binds it: callers that
// start a server on it retry with another port when that happens.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
