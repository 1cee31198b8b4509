// Package specs is the conformance suite: Ginkgo specs, one file per area
// of the MQTT 3.1.1 and 5.0 specifications, each citing the normative
// statements it checks. They run against any Target: `mqttspec run` builds
// them into the binary (Run), and `go test ./specs` or `ginkgo -p ./specs`
// runs them as a test suite against the in-process reference broker or the
// broker named by MQTTSPEC_TARGET.
package specs
