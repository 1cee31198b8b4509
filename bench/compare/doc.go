// Package compare benchmarks the strict codec of mqttspec
// (reference/packet) against the packet codecs of two other Go MQTT
// projects, mochi-mqtt's server (packets) and Eclipse paho.golang
// (packets), on identical wire bytes, and records how each of them treats a
// few hostile inputs.
//
// It is a module of its own so that the competitors never enter the
// product's go.mod: mqttspec's own module requires only what the product
// uses, and `go test ./...` at the repository root does not descend into
// this directory. This module points at the product with a replace
// directive, so it always measures the codec in the working tree.
//
// Run it from this directory:
//
//	go test -run '^$' -bench . -benchmem .
//	go test -run TestHostileInputs -v .
//
// The package holds only tests; doc.go exists so that it is a package at
// all and to say why it is separate.
package compare
