// Package reports renders mqttspec's results: it holds the report models (plain
// structs with a versioned JSON form) and turns them into JSON, JUnit XML and a
// self-contained HTML page.
//
// The conformance model ([Conformance]) is filled from a Ginkgo run by one
// adapter, [FromGinkgo] in ginkgo.go; that file is the only one here that knows
// Ginkgo, and it documents the labels and report entries the conformance
// harness must produce. Everything else is a pure renderer: no sockets, no
// protocol logic, no knowledge of brokers or of the catalogue (statement levels
// come in through [AdapterOptions.LevelOf]).
//
// Layout: conformance.go is the model, its summary, exit code and JSON form;
// ginkgo.go the adapter; junit.go and html.go the renderers; the HTML template
// is embedded from templates/conformance.html.tmpl.
package reports
