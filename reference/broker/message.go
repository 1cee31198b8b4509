package broker

import (
	"time"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// message is an application message as the broker keeps it: an owned copy
// of what a client published (the decoder's buffers are reused).
type message struct {
	topic    string
	payload  []byte
	qos      packet.QoS
	retain   bool
	props    packet.Properties // application-message properties only
	expires  time.Time         // zero: never [Message Expiry Interval]
	from     string            // publishing client identifier, for No Local
	fromUser string            // its user name, for the ACL check of a will
}

// appProps are the properties that travel with an application message from
// publisher to subscriber [MQTT-3.3.2-15..20 keep them unaltered].
var appProps = []packet.PropertyID{packet.PropPayloadFormat, packet.PropMessageExpiry, packet.PropContentType,
	packet.PropResponseTopic, packet.PropCorrelationData, packet.PropUserProperty}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// newMessage copies a decoded PUBLISH (or will) into a message.
func newMessage(topic string, payload []byte, qos packet.QoS, retain bool, props *packet.Properties, from string, now time.Time) *message {
	m := &message{topic: topic, payload: clone(payload), qos: qos, retain: retain, from: from}
	if props != nil {
		m.props.PayloadFormat = props.PayloadFormat
		m.props.MessageExpiry = props.MessageExpiry
		m.props.ContentType = clone(props.ContentType)
		m.props.ResponseTopic = clone(props.ResponseTopic)
		m.props.CorrelationData = clone(props.CorrelationData)
		for _, u := range props.User {
			m.props.User = append(m.props.User, packet.UserProperty{Key: clone(u.Key), Value: clone(u.Value)})
		}
		for _, id := range appProps {
			if props.Present.Has(id) {
				m.props.Present = m.props.Present.With(id)
			}
		}
		if props.Has(packet.PropMessageExpiry) {
			m.expires = now.Add(time.Duration(props.MessageExpiry) * time.Second)
		}
	}
	return m
}

func (m *message) expired(now time.Time) bool {
	return !m.expires.IsZero() && !now.Before(m.expires)
}

// delivery is a message addressed to one session with the options of the
// subscriptions that matched.
type delivery struct {
	m      *message
	qos    packet.QoS
	retain bool
	subIDs []int
}

// publishPacket builds the PUBLISH a subscriber receives. The Message Expiry
// Interval is reduced by the time the message waited [MQTT-3.3.2-6].
func (d *delivery) publishPacket(id uint16, dup bool, v packet.Version, now time.Time) *packet.Publish {
	p := &packet.Publish{Dup: dup, QoS: d.qos, Retain: d.retain, Topic: []byte(d.m.topic), PacketID: id, Payload: d.m.payload}
	if v == packet.V5 {
		p.Properties = d.m.props
		p.Properties.User = d.m.props.User
		if !d.m.expires.IsZero() {
			left := d.m.expires.Sub(now)
			secs := uint32((left + time.Second - 1) / time.Second)
			p.Properties.MessageExpiry = secs
		}
		p.Properties.SubscriptionIDs = d.subIDs
	}
	return p
}
