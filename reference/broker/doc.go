// Package broker is mqttspec's reference MQTT broker: a complete, strict
// server for MQTT 3.1, 3.1.1 and 5.0 that the conformance suite runs against
// by default and that people can embed or run with `mqttspec broker`.
//
// It speaks MQTT only through reference/packet and enforces, where the
// specification asks something of a server, the normative statement named in
// a comment beside the code. It knows nothing of the conformance specs, the
// simulator or the fuzzer that exercise it.
package broker
