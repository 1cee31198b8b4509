package broker

import (
	"log/slog"
	"time"

	"github.com/mqttspec/mqttspec/reference/broker/auth"
)

// Config sets the broker's limits and policies. The zero value is usable:
// every zero field takes the default documented beside it.
type Config struct {
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
