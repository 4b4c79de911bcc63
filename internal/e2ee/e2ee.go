// Package e2ee is Gavel's end-to-end encryption: mautrix's Olm machine,
// set up by its cryptohelper with pure-Go Olm, when Gavel is built with the
// goolm tag (as make build does), and a stand-in that says what is missing
// otherwise. Without the tag mautrix wants libolm through cgo; the
// stand-in keeps a plain go build, go vet or go test working.
//
// Everything in Gavel that touches mautrix's crypto packages is here.
//
// Of Gavel's packages it may import: none.
package e2ee

import "errors"

// Available reports whether this build has end-to-end encryption.
const Available = available

// ErrNotBuilt is Start's error in a build without encryption.
var ErrNotBuilt = errors.New("this Gavel was built without end-to-end encryption: build it with make build, or go build -tags goolm")
