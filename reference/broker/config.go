package broker

import (
	"log/slog"
	"time"

	"github.com/mqttspec/mqttspec/reference/broker/auth"
)

// Config sets the broker's limits and policies. The zero value is usable:
// every zero field takes the default documented beside it.
type Config struct {
	// The four security fields are the broker-wide Security, used by
	// every listener without its own (ServeOptions.Security).

	// AllowAnonymous lets clients connect without a user name. When
	// Authenticator is nil every client is anonymous and allowed.
	AllowAnonymous bool
	// Authenticator checks credentials; nil accepts everyone.
	Authenticator Authenticator
	// EnhancedAuth lists the MQTT 5.0 enhanced authentication methods
	// offered (5.0 section 4.12). A client naming another method is refused
	// with 0x8C Bad authentication method.
	EnhancedAuth []EnhancedAuth
	// Authorizer decides publish and subscribe rights; nil allows all.
	Authorizer Authorizer

	// MaxPacketSize is the largest packet the broker accepts (and announces
	// to 5.0 clients). Default 1 MiB.
	MaxPacketSize int
	// ReceiveMaximum is how many QoS 1 and 2 publishes a 5.0 client may have
	// unacknowledged towards the broker. Default 1024.
	ReceiveMaximum uint16
	// MaxInflight bounds the QoS 1 and 2 messages the broker has sent to a
	// client and not yet seen acknowledged (a 5.0 client's Receive Maximum
	// lowers it further). Default 256.
	MaxInflight int
	// MaxQueued bounds the messages held for one session beyond the
	// in-flight window, online or offline. When it is full a new message for
	// the session is dropped and counted (drop-newest: the messages already
	// queued keep their order). Default 10,000.
	MaxQueued int
	// TopicAliasMaximum is how many topic aliases a 5.0 client may set
	// towards the broker. Default 65535; the broker itself sends no aliases.
	TopicAliasMaximum uint16
	// MaxTopicLength and MaxTopicLevels bound topic names and filters.
	// Defaults 65535 bytes and 128 levels.
	MaxTopicLength int
	MaxTopicLevels int
	// MaxSessionExpiry caps the Session Expiry Interval a 5.0 client asks
	// for, and is the expiry of 3.1.1 persistent sessions. Default: never.
	MaxSessionExpiry time.Duration
	// ServerKeepAlive, when set, overrides the client's keep alive (5.0
	// clients are told through the Server Keep Alive property).
	ServerKeepAlive time.Duration
	// ConnectTimeout is how long a new connection may take to send
	// CONNECT. Default 10 s.
	ConnectTimeout time.Duration
	// MaxConnections bounds concurrent connections; 0 means unlimited.
	MaxConnections int
	// Disable* turn off features so clients see them as unavailable.
	DisableRetain                 bool
	DisableWildcardSubscriptions  bool
	DisableSubscriptionIdentifier bool
	DisableSharedSubscriptions    bool
	// MaximumQoS is the highest QoS the broker supports. Default 2.
	MaximumQoS *byte
	// PersistencePath, when set, is a bbolt file that keeps sessions and
	// retained messages across restarts (see Open). Empty: memory only.
	PersistencePath string
	// AutosaveInterval saves a snapshot periodically as well as at
	// shutdown; 0 saves only at shutdown.
	AutosaveInterval time.Duration
	// SysInterval is how often $SYS statistics are published; 0 disables.
	SysInterval time.Duration
	// Now is the clock for message expiry; nil means time.Now. Tests set it
	// to move time forward without waiting.
	Now func() time.Time
	// Logger receives the broker's logs; nil discards them.
	Logger *slog.Logger
}

// Security is who may connect and what they may do once connected. The
// broker-wide one comes from Config (AllowAnonymous, Authenticator,
// EnhancedAuth, Authorizer); a listener may carry its own through
// ServeOptions.Security, like Mosquitto's per_listener_settings, so one
// broker can offer an open listener beside a secured one.
type Security struct {
	// AllowAnonymous lets clients connect without a user name. When
	// Authenticator is nil every client is anonymous and allowed.
	AllowAnonymous bool
	// Authenticator checks credentials; nil accepts everyone.
	Authenticator Authenticator
	// EnhancedAuth lists the MQTT 5.0 enhanced authentication methods
	// offered (5.0 section 4.12).
	EnhancedAuth []EnhancedAuth
	// Authorizer decides publish and subscribe rights; nil allows all.
	Authorizer Authorizer
}

// security is the broker-wide Security of a Config.
func (c Config) security() *Security {
	return &Security{AllowAnonymous: c.AllowAnonymous, Authenticator: c.Authenticator,
		EnhancedAuth: c.EnhancedAuth, Authorizer: c.Authorizer}
}

func (s *Security) enhanced(method string) EnhancedAuth {
	for _, m := range s.EnhancedAuth {
		if m.Method() == method {
			return m
		}
	}
	return nil
}

// mayRead reports whether the user and client may receive a message on topic.
func (s *Security) mayRead(username, clientID, topic string) bool {
	return s.Authorizer == nil || s.Authorizer.Allowed(username, clientID, topic, AccessRead)
}

// mayWrite reports whether the user and client may publish on topic (a
// will included). Nobody writes to the broker's own $SYS tree.
func (s *Security) mayWrite(username, clientID, topic string) bool {
	return !isSysTopic(topic) && (s.Authorizer == nil || s.Authorizer.Allowed(username, clientID, topic, AccessWrite))
}

// denyEverything is the Security of a session restored from persistence
// whose listener, with its own security, is not (or no longer) served: it
// receives nothing until its client connects again, rather than falling
// back to rights that may be wider.
var denyEverything = &Security{Authenticator: refuseAll{}, Authorizer: refuseAll{}}

type refuseAll struct{}

func (refuseAll) Authenticate(string, string, []byte, bool, bool) bool { return false }
func (refuseAll) Allowed(string, string, string, Access) bool          { return false }
func (refuseAll) AllowedSubscribe(string, string, string) bool         { return false }

// Authenticator decides whether a client may connect.
type Authenticator interface {
	// Authenticate reports whether the credentials are acceptable.
	// hasUsername and hasPassword tell an empty value from an absent one.
	Authenticate(clientID, username string, password []byte, hasUsername, hasPassword bool) bool
}

// Access is the kind of right an Authorizer grants; it is the auth
// package's type, so an *auth.ACL is an Authorizer as it is.
type Access = auth.Access

const (
	AccessRead  = auth.Read  // receive messages on a topic (incl. retained)
	AccessWrite = auth.Write // publish to a topic (incl. a will)
)

// Authorizer decides what an authenticated client may do.
type Authorizer interface {
	// Allowed reports whether the client may read or write topic.
	Allowed(username, clientID, topic string, access Access) bool
	// AllowedSubscribe reports whether the client may subscribe to filter.
	AllowedSubscribe(username, clientID, filter string) bool
}

func (c Config) withDefaults() Config {
	if c.MaxPacketSize <= 0 {
		c.MaxPacketSize = 1 << 20
	}
	if c.ReceiveMaximum == 0 {
		c.ReceiveMaximum = 1024
	}
	if c.MaxInflight <= 0 {
		c.MaxInflight = 256
	}
	if c.MaxQueued <= 0 {
		c.MaxQueued = 10_000
	}
	if c.TopicAliasMaximum == 0 {
		c.TopicAliasMaximum = 65535
	}
	if c.MaxTopicLength <= 0 {
		c.MaxTopicLength = 65535
	}
	if c.MaxTopicLevels <= 0 {
		c.MaxTopicLevels = 128
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.MaximumQoS == nil {
		two := byte(2)
		c.MaximumQoS = &two
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
