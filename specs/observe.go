package specs

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mqttspec/mqttspec/brokers"
	"github.com/mqttspec/mqttspec/reference/packet"
	"github.com/mqttspec/mqttspec/reports"
	"github.com/mqttspec/mqttspec/specs/catalogue"
)

// observedCapabilities lists what the target declares (its profile or
// target file) and what its CONNACK says, for the report's header: a
// reader sees at once why a feature's specs are unsupported, and whether
// the declaration and the broker agree.
func observedCapabilities(t *brokers.Target, versions []packet.Version) []reports.Capability {
	caps := t.Capabilities
	out := []reports.Capability{
		{Name: "Maximum QoS", Value: int(caps.MaximumQoS), Source: reports.CapabilityFromProfile},
		{Name: "Retain Available", Value: caps.Retain, Source: reports.CapabilityFromProfile},
		{Name: "Wildcard Subscription Available", Value: caps.Wildcards, Source: reports.CapabilityFromProfile},
		{Name: "Shared Subscription Available", Value: caps.SharedSubscriptions, Source: reports.CapabilityFromProfile},
		{Name: "Subscription Identifier Available", Value: caps.SubscriptionIdentifiers, Source: reports.CapabilityFromProfile},
		{Name: "Topic Alias Maximum", Value: int(caps.TopicAliasMaximum), Source: reports.CapabilityFromProfile},
		{Name: "WebSocket", Value: t.WebSocket != nil, Source: reports.CapabilityFromProfile},
		{Name: "Authentication specs", Value: t.Auth != nil, Source: reports.CapabilityFromProfile},
	}
	for _, v := range versions {
		out = append(out, connackCapabilities(t, v)...)
	}
	return out
}

// connackCapabilities connects once with version v and reads the CONNACK.
// A 5.0 CONNACK's absent properties stand for their defaults, which the
// report shows as such.
func connackCapabilities(t *brokers.Target, v packet.Version) []reports.Capability {
	version := catalogueVersion(v)
	fail := func(err error) []reports.Capability {
		return []reports.Capability{{Name: "CONNACK", Value: "no answer: " + err.Error(), Source: reports.CapabilityFromProbe, MQTTVersion: version}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := brokers.Dial(ctx, t.Endpoint, nil)
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	cp := &packet.Connect{ProtocolVersion: v, ClientID: fmt.Sprintf("mqttspec-capabilities-%d", time.Now().UnixNano()%1e9), CleanStart: true}
	if l := t.Login; l != nil {
		cp.Username, cp.UsernameFlag = l.Username, true
		cp.Password, cp.PasswordFlag = []byte(l.Password), l.Password != ""
	}
	b, err := packet.Encode(cp, v)
	if err != nil {
		return fail(err)
	}
	if _, err := conn.Write(b); err != nil {
		return fail(err)
	}
	p, err := packet.NewReader(conn, packet.DecodeOptions{Version: v}).ReadPacket()
	if err != nil {
		return fail(err)
	}
	ca, ok := p.(*packet.Connack)
	if !ok {
		return fail(fmt.Errorf("answered CONNECT with %s", p.Type()))
	}
	if d, err := packet.Encode(&packet.Disconnect{}, v); err == nil {
		conn.Write(d)
	}
	at := func(name string, value any) reports.Capability {
		return reports.Capability{Name: name, Value: value, Source: reports.CapabilityFromCONNACK, MQTTVersion: version}
	}
	out := []reports.Capability{at("CONNACK", ca.ReasonCode.String())}
	if v != packet.V5 || ca.ReasonCode != 0 {
		return out
	}
	pr := &ca.Properties
	byteOr := func(id packet.PropertyID, value byte, def string) any {
		if pr.Has(id) {
			return int(value)
		}
		return def
	}
	out = append(out,
		at("Maximum QoS", byteOr(packet.PropMaximumQoS, pr.MaximumQoS, "2 (absent)")),
		at("Retain Available", byteOr(packet.PropRetainAvailable, pr.RetainAvailable, "1 (absent)")),
		at("Wildcard Subscription Available", byteOr(packet.PropWildcardSubAvailable, pr.WildcardSubAvailable, "1 (absent)")),
		at("Shared Subscription Available", byteOr(packet.PropSharedSubAvailable, pr.SharedSubAvailable, "1 (absent)")),
		at("Subscription Identifier Available", byteOr(packet.PropSubIDAvailable, pr.SubIDAvailable, "1 (absent)")))
	if pr.Has(packet.PropTopicAliasMaximum) {
		out = append(out, at("Topic Alias Maximum", int(pr.TopicAliasMaximum)))
	} else {
		out = append(out, at("Topic Alias Maximum", "0 (absent)"))
	}
	if pr.Has(packet.PropReceiveMaximum) {
		out = append(out, at("Receive Maximum", int(pr.ReceiveMaximum)))
	} else {
		out = append(out, at("Receive Maximum", "65535 (absent)"))
	}
	if pr.Has(packet.PropMaximumPacketSize) {
		out = append(out, at("Maximum Packet Size", int(pr.MaximumPacketSize)))
	}
	if pr.Has(packet.PropServerKeepAlive) {
		out = append(out, at("Server Keep Alive", int(pr.ServerKeepAlive)))
	}
	return out
}

// catalogueStatements lists the catalogue's statements of the tested
// versions, for statement coverage in the report.
func catalogueStatements(cat *catalogue.Catalogue, versions []string) []reports.CatalogueStatement {
	var out []reports.CatalogueStatement
	for _, v := range cat.Versions() {
		if !slices.Contains(versions, v) {
			continue
		}
		for _, s := range cat.Statements(v) {
			out = append(out, reports.CatalogueStatement{ID: s.ID, MQTTVersion: v, Section: s.Section,
				Level: string(s.Level), WireTestable: s.WireTestable(), Text: s.Text})
		}
	}
	return out
}

func catalogueVersion(v packet.Version) string {
	if v == packet.V5 {
		return catalogue.V5
	}
	return catalogue.V311
}
