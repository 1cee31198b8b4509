// Package listener opens the network listeners of the reference broker:
// plain TCP, TLS, MQTT over WebSocket and over secure WebSocket. Each is a
// net.Listener whose connections carry raw MQTT bytes, so the broker serves
// all four the same way, and each accepted connection reports where it came
// from and, over TLS, the client's verified certificate (see ConnInfo).
//
// The package also filters peers by IP address before any byte is read. It
// knows nothing about MQTT packets, sessions or the broker itself.
package listener
