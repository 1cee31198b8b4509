// Package catalogue lists the numbered normative statements of MQTT 3.1.1 and
// MQTT 5.0 and measures how many of them the conformance specs cover.
//
// The data lives beside the code in data/mqtt-3.1.1.yaml and
// data/mqtt-5.0.yaml, one entry per statement ID of each standard's
// Appendix B, in spec order, embedded into the binary. Each entry gives the ID
// and section exactly as the standard prints them (facts), the level (MUST,
// SHOULD, MAY and their negations), whom the statement binds, whether a test
// client can check a server against it on the wire, and a paraphrase in our
// own words (the OASIS sentences are not ours to copy). Load parses the data
// strictly and validates it; a malformed catalogue is a build defect, so
// MustLoad panics on it.
//
// Coverage is computed from citations: a conformance spec cites the statements
// it checks, and Compute counts, per version and per section, the statements
// that are testable on the wire and how many of them some spec cites. The
// share of wire-testable server statements covered is the project's target
// metric (Target). A citation of an ID the catalogue lacks is an error.
//
// The package is plain data and arithmetic: it knows nothing of Ginkgo, of
// sockets or of brokers. The conformance specs hand it their citations; the
// mqttspec catalogue command prints the result with WriteText or WriteJSON.
package catalogue
