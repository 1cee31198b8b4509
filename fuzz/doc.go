// Package fuzz is mqttspec's network fuzzer for MQTT brokers.
//
// It generates valid MQTT 3.1.1 and 5.0 sessions with the reference codec
// (CONNECT, then SUBSCRIBE / PUBLISH / PUBREL / UNSUBSCRIBE / PINGREQ / AUTH /
// DISCONNECT), mutates them at field level (lengths, variable byte integers,
// flags, property identifiers, duplicated or misplaced properties, UTF-8 edge
// cases, packet identifiers, topic aliases, reason codes, truncation) and at
// byte level, sends each one over a fresh connection to a brokers.Target and
// keeps, per worker, the inputs whose responses show a behaviour not seen
// before. Oracles decide what is a finding: the broker died (crash), a fresh
// connection's CONNECT and PINGREQ round trips exceed a bound (hang), the
// broker kept a connection open and answered after a packet the strict codec
// rejects for a rule that obliges the server to close (spec violation), or the
// broker sent a packet the codec rejects (malformed response). Findings are
// deduplicated by signature and saved as JSON reproducers that Replay re-runs
// and Minimize shrinks. A container target that crashed or hung is restarted
// (Config.MaxRestarts) and fuzzed on at its new address; its memory, sampled
// through the Docker engine, makes a resource-growth finding when it grows
// beyond Config.MaxMemoryGrowth.
//
// A campaign splits into shards (Config.Shard of Config.Shards) that draw
// disjoint input streams; MergeFindings joins their findings directories,
// keeping the smallest reproducer per signature. Summary.Report turns a run
// into the reports package's model for the HTML summary.
//
// With a login (a broker without anonymous access) every generated CONNECT
// carries it; reproducer files have its password taken out, and Replay and
// Minimize put it back.
//
// Everything random comes from a seeded generator, so a worker's sequence of
// inputs is the same for the same seed and the same broker behaviour.
//
// The package knows the Target only through its exported API (Endpoint,
// Login, Alive, Logs, Restart, ContainerState, MemoryUsage); it knows nothing
// of the CLI, the conformance specs or how the broker was started.
package fuzz
