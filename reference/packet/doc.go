// Package packet is mqttspec's MQTT codec: it turns bytes into control packets
// and back for MQTT 3.1 (protocol level 3, "MQIsdp"), 3.1.1 (level 4) and 5.0
// (level 5).
//
// It is deliberately strict. Every rule the specifications place on the wire
// form of a packet is checked while decoding, and a violation is reported as
// an *Error that names the normative statement (for example MQTT-1.5.5-1),
// describes what was wrong and carries the reason code a server answers with.
// Decoding never allocates more than the caller's maximum packet size, and a
// PUBLISH decodes without allocating at all: its topic, payload and binary
// properties alias the input buffer.
//
// The package depends on nothing else in mqttspec; the reference broker, the
// conformance harness, the simulator and the fuzzer all speak MQTT through it.
// It knows nothing about sessions, sockets or brokers.
package packet
