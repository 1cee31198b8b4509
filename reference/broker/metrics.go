package broker

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsHandler serves the broker's Prometheus metrics. The values are
// read from the broker's own counters at scrape time, so metrics cost
// nothing on the message path. The Prometheus client library is the
// standard way to expose them; a private registry keeps the process's
// default registry untouched for embedders.
func (b *Broker) MetricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "mqttspec", Subsystem: "broker", Name: name, Help: help}, f))
	}
	counter := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "mqttspec", Subsystem: "broker", Name: name, Help: help}, f))
	}
	gauge("clients_connected", "Connected clients.", func() float64 { return float64(b.stats.connected.Load()) })
	gauge("sessions", "Sessions held, connected or not.", func() float64 {
		b.mu.Lock()
		defer b.mu.Unlock()
		return float64(len(b.sessions))
	})
	gauge("subscriptions", "Subscriptions held.", func() float64 { return float64(b.subs.count()) })
	gauge("retained_messages", "Retained messages held.", func() float64 { return float64(b.retained.count()) })
	counter("connections_total", "Connections accepted.", func() float64 { return float64(b.stats.total.Load()) })
	counter("packets_received_total", "Packets received from clients.", func() float64 { return float64(b.stats.received.Load()) })
	counter("packets_sent_total", "Packets sent to clients.", func() float64 { return float64(b.stats.sent.Load()) })
	counter("messages_published_total", "Application messages published by clients.", func() float64 { return float64(b.stats.publishedIn.Load()) })
	counter("messages_delivered_total", "Application messages routed to sessions.", func() float64 { return float64(b.stats.deliveredTo.Load()) })
	counter("messages_dropped_total", "Messages dropped: full queues, QoS 0 for offline or slow clients, too large for the client.", func() float64 {
		return float64(b.stats.dropped.Load())
	})
	reg.MustRegister(prometheus.NewGoCollector())
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
