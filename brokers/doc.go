// Package brokers turns "what to test" into a running Target: the
// in-process reference broker, a broker at an address the user gives, and
// (later) containers started from profiles. The conformance specs, the
// simulator and the fuzzer all take a Target; none of them knows how it was
// started.
package brokers
