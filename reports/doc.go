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
// Several runs side by side form a [Matrix] (matrix.go, matrixhtml.go);
// [Diff] lists what changed between two runs of one broker, reusing the
// expected-verdicts comparison of expect.go.
//
// Layout: conformance.go is the model, its summary, exit code and JSON form;
// logexcerpt.go cuts a spec's time window out of a broker log; ginkgo.go the
// adapter; junit.go, html.go and matrixhtml.go the renderers, with their
// templates embedded from templates/ (common.html.tmpl holds the CSS, the
// filter script and the spec evidence block both pages share). Pages are
// self-contained: no network, usable without JavaScript.
package reports
