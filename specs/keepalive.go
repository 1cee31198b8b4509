package specs

import (
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	. "github.com/mqttspec/mqttspec/specs/harness"
)

// kaConnect connects c with a keep alive of 1 s (and a will, when w is not
// nil) and returns the keep alive in force: the client's, or a 5.0 Server
// Keep Alive. A spec whose timer would exceed the read timeout is not
// applicable (the server imposed a long keep alive).
func kaConnect(c *Client, w *packet.Will) time.Duration {
	GinkgoHelper()
	ca := c.Connect(&packet.Connect{CleanStart: true, KeepAlive: 1, Will: w})
	if ca.ReasonCode != 0 {
		Failf("CONNACK with code 0x00", "CONNACK %s", ca.ReasonCode)
	}
	ka := time.Second
	if c.V == packet.V5 && ca.Properties.Has(packet.PropServerKeepAlive) {
		ka = time.Duration(ca.Properties.ServerKeepAlive) * time.Second
		Note("the server imposed Server Keep Alive %d s", ca.Properties.ServerKeepAlive)
		if ka == 0 || ka*3/2+500*time.Millisecond > Cfg().ReadTimeout {
			Skip("not applicable: the server imposed a keep alive the spec cannot wait for")
		}
	}
	return ka
}

// kaStatement is the keep-alive rule of each version.
func kaStatement(v packet.Version) string { return S(v, "MQTT-3.1.2-24", "MQTT-3.1.2-22") }

// kaStatements adds, for 5.0, the rule that the client's keep alive applies
// when CONNACK has no Server Keep Alive.
func kaStatements(v packet.Version) []string {
	if v == packet.V5 {
		return []string{kaStatement(v), "MQTT-3.2.2-22"}
	}
	return []string{kaStatement(v)}
}

// timerSpec marks the specs that wait on a 1 s protocol timer (keep alive,
// will delay, session expiry): `--label-filter '!timer'` leaves them out of
// a quick run.
var timerSpec = Label("timer")

// Keep alive: 3.1.1 section 3.1.2.10, 5.0 sections 3.1.2.10 and 3.2.2.3.14;
// PINGREQ and PINGRESP: sections 3.12 and 3.13 of both.
var _ = Describe("Keep alive", func() {
	ForVersions(func(v packet.Version) {
		It("closes a connection silent for one and a half keep-alive periods",
			Statement(v, kaStatements(v)...), timerSpec, func() {
				Requirement("With a keep alive of 1 s (and, in 5.0, no Server Keep Alive) the server closes a connection that sends nothing for 1.5 s.")
				c := NewClient(v)
				ka := kaConnect(c, nil)
				start := time.Now()
				// 1.5 keep-alive periods, plus 2 s for a server whose timers
				// tick in whole seconds; later than that is a failure.
				got, err := c.ClosedWithin(ka*3/2 + 2*time.Second)
				elapsed := time.Since(start)
				Observed("the connection closed %v after CONNACK", elapsed.Round(time.Millisecond))
				if err != nil {
					Failf("the close (5.0: DISCONNECT 0x8D first, if any)", "%v", err)
				}
				for _, p := range got {
					d, ok := p.(*packet.Disconnect)
					if !ok {
						Failf("nothing but a DISCONNECT before the close", "%s", packet.Summary(p, v))
					}
					if d.ReasonCode != packet.KeepAliveTimeout {
						Note("DISCONNECT %s (0x8D Keep Alive timeout is the fitting code)", d.ReasonCode)
					}
				}
				if elapsed < ka {
					// No statement sets a lower bound for the server; the spec
					// below shows whether a client that keeps within its keep
					// alive is left alone.
					Note("the server closed the connection before one keep-alive period (%v) had passed", ka)
				}
			})

		It("keeps a connection open while the client sends packets within the keep alive",
			Statement(v, kaStatement(v), "MQTT-3.12.4-1"), timerSpec, func() {
				Requirement("Any packet from the client restarts the keep-alive timer: a client pinging every 0.8 s with a keep alive of 1 s stays connected past 1.5 s.")
				// The client must itself keep within the keep alive: on a busy
				// machine its ping can go out late, and then the server's close
				// proves nothing. Such an attempt is repeated with a new client.
				for attempt := 1; ; attempt++ {
					c := NewClient(v)
					ka := kaConnect(c, nil)
					step := ka * 4 / 5
					last, late := time.Now(), time.Duration(0)
					for i := 0; i < 2; i++ {
						p, err := c.WaitQuiet(step)
						// Back well after the wait's deadline: this process was
						// not scheduled, so the ping would go out late (and a
						// close seen now may answer that lateness).
						if gap := time.Since(last); gap > step+150*time.Millisecond {
							late = gap
							break
						}
						if err != nil {
							Failf("the connection open while the client pings", "closed after %v: %v", time.Duration(i+1)*step, err)
						}
						if p != nil {
							Failf("nothing from the server while idle", "%s", packet.Summary(p, v))
						}
						c.Ping()
						last = time.Now()
					}
					if late == 0 {
						return
					}
					TraceNote("attempt %d: the client's own ping was due after %v but %v had passed (a busy machine); trying again", attempt, step, late.Round(time.Millisecond))
					c.Close()
					if attempt == 3 {
						Unsupported("inconclusive: in 3 attempts the client could not send its pings on time (this machine is too busy)")
					}
				}
			})

		It("publishes the will when the keep alive expires",
			Statement(v, kaStatement(v), "MQTT-3.1.2-8"), timerSpec, func() {
				Requirement("A connection closed for keep-alive expiry ends as if the network had failed: its will is published.")
				topic := Topic("keepalive")
				watcher := willWatcher(v, topic)
				c := NewClient(v, Named("silent"))
				kaConnect(c, &packet.Will{Topic: topic, Payload: []byte("timed out"), QoS: 1})
				p, err := watcher.ReadWithin(Cfg().ReadTimeout + time.Second)
				if err != nil {
					Failf("the will after the keep alive expired", "nothing: %v", err)
				}
				pub, ok := p.(*packet.Publish)
				if !ok || string(pub.Payload) != "timed out" {
					Failf("the will after the keep alive expired", "%s", packet.Summary(p, v))
				}
				watcher.Ack(pub)
			})
	})
})

var _ = Describe("PINGREQ and PINGRESP", func() {
	ForVersions(func(v packet.Version) {
		It("answers every PINGREQ with a PINGRESP",
			Statement(v, "MQTT-3.12.4-1"), func() {
				Requirement("The server answers each PINGREQ with a PINGRESP, also when several arrive back to back.")
				c := Connected(v)
				for i := 0; i < 3; i++ {
					c.Send(&packet.Pingreq{})
				}
				for i := 0; i < 3; i++ {
					Expect[*packet.Pingresp](c)
				}
			})
	})
})
