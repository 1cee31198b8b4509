// Package simulator is mqttspec's fleet simulator: it emulates thousands of
// home-automation devices (homes → rooms → sensors and actuators, topics
// such as Long-Home/Küche/Temperatur) against a broker and accounts for
// every message.
//
// A Scenario (YAML, or the built-in "home") describes the fleet; a Fleet
// enumerates its devices deterministically from their index, so a shard
// (i/n) can take its part without coordination. The engine speaks MQTT
// through reference/packet: one scheduler goroutine drives every publish
// and keep-alive from a heap (open loop: a message is stamped with the
// time it should have been sent), and on Linux one epoll poller reads
// every plain TCP (tcp://) device connection, so an idle device costs a
// small struct and no goroutine.
//
// TLS (ssl://) and WebSocket (ws://, wss://, through brokers.Dial with
// subprotocol mqtt) connections cannot be read through their descriptor,
// so each such device has a reader goroutine blocked in Read, plus a
// writer goroutine only while it has bytes to send; the accounting is the
// same as over TCP. That costs memory: measured with
// BenchmarkIdleNodeMemory (1000 idle devices, reference broker in another
// process), an idle TLS device takes about 17 KB of heap and stack and
// 31 KB of process memory, against 1.6 KB and 5 KB over plain TCP — the
// reader's stack and 4 KiB read buffer, and crypto/tls's connection state
// and record buffers. 100,000 TLS devices need about 3 GB. Devices authenticate with per-device user name and password
// templates (connection or device class) and, over TLS, with per-device
// client certificates named by templates (connection.tls); a CONNACK that
// refuses a device is counted by its code. Observers subscribe with wildcards and
// count lost, duplicated and reordered messages per QoS exactly; latency
// goes into HDR histograms that merge exactly across shards (Merge adds
// shard results into one). With persistent sessions, devices and observers
// reconnect with backoff and resume their sessions, following a broker
// whose address changes through Options.Resolve; a session the broker did
// not keep is counted. Metrics exposes a run to Prometheus, read from the
// engine's counters at scrape time; Result.Report turns a result into the
// reports package's model for the HTML report.
//
// It knows brokers only as a URL: starting one is the brokers package's
// job, and rendering results beyond the summary table is the reports
// package's (which in turn knows nothing of the simulator).
package simulator
