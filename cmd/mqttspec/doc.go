// Command mqttspec tests MQTT brokers: a conformance suite traced to the
// normative statements of MQTT 3.1.1 and 5.0, a fleet simulator and a network
// fuzzer, built on the strict codec in reference/packet.
//
// Only part of that exists today: `mqttspec --help` lists the subcommands
// this build has.
//
// This package is thin: it parses flags, calls the packages that do the work
// and sets the exit code. It holds no protocol logic of its own.
//
// Layout: root.go builds the root command and registers subcommands; each
// subcommand lives in cmd_<name>.go with a new<Name>Cmd() constructor;
// main.go runs the tree and maps errors to exit codes; version.go resolves
// the version string.
package main
