// Package auth is the reference broker's authentication and authorisation:
// Mosquitto-compatible password files (user:hash lines as mosquitto_passwd
// writes them, plus bcrypt), Mosquitto-syntax ACL files (user, topic and
// pattern rules) and the small interfaces through which the broker asks
// "may this client connect?" (Checker) and "may it read or write this
// topic, or subscribe to this filter?" (Authorizer).
//
// It works on strings and byte slices only. It knows nothing about sockets,
// MQTT packets or sessions: the broker decides when to ask, what to do with
// the answer (which reason code to send) and whether anonymous clients are
// let in at all (see Checker).
package auth
