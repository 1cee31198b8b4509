package broker

import (
	"strconv"
	"time"
)

// sysLoop publishes broker statistics under $SYS/broker/ as retained QoS 0
// messages, the layout Mosquitto popularised, so dashboards work unchanged.
func (b *Broker) sysLoop() {
	defer b.wg.Done()
	t := time.NewTicker(b.cfg.SysInterval)
	defer t.Stop()
	b.publishSys()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
			b.publishSys()
		}
	}
}

func (b *Broker) publishSys() {
	b.mu.Lock()
	sessions := len(b.sessions)
	b.mu.Unlock()
	now := time.Now()
	values := []struct{ topic, value string }{
		{"$SYS/broker/version", Version},
		{"$SYS/broker/uptime", strconv.Itoa(int(now.Sub(b.started)/time.Second)) + " seconds"},
		{"$SYS/broker/clients/connected", strconv.FormatInt(b.stats.connected.Load(), 10)},
		{"$SYS/broker/clients/total", strconv.Itoa(sessions)},
		{"$SYS/broker/messages/received", strconv.FormatInt(b.stats.received.Load(), 10)},
		{"$SYS/broker/messages/sent", strconv.FormatInt(b.stats.sent.Load(), 10)},
		{"$SYS/broker/publish/messages/dropped", strconv.FormatInt(b.stats.dropped.Load(), 10)},
		{"$SYS/broker/retained messages/count", strconv.Itoa(b.retained.count())},
		{"$SYS/broker/subscriptions/count", strconv.Itoa(b.subs.count())},
	}
	for _, v := range values {
		b.publish(&message{topic: v.topic, payload: []byte(v.value), retain: true})
	}
}
