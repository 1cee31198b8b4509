// Package certgen makes throw-away X.509 material for TLS tests: a
// certificate authority, server certificates for loopback names and
// addresses, and client certificates whose Common Name identifies a user.
//
// Everything is generated in memory with ECDSA P-256 keys, which takes a few
// milliseconds, and can be written out as PEM files for external tools such
// as mosquitto_sub (--cafile, --cert, --key) or a broker container. The
// package knows nothing about MQTT, listeners or brokers; it is not meant to
// produce certificates for production use.
package certgen
