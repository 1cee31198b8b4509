// Package harness is what the conformance specs stand on: the target they
// run against, a raw MQTT client over our codec that records every packet
// it sends and receives, helpers that name the normative statements a spec
// checks, verdict helpers (unsupported, broker-down) and Gomega matchers.
//
// It knows Ginkgo and the codec; it knows nothing of how a target was
// started (package brokers) or how results are rendered (package reports).
package harness
