package broker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mqttspec/mqttspec/reference/broker/auth"
	"github.com/mqttspec/mqttspec/reference/broker/listener"
)

// FileConfig is the YAML configuration file of `mqttspec broker --config`.
// Relative paths in it are relative to the file's directory. Unknown keys
// are errors, so a typo never silently changes the broker's behaviour.
// docs/broker-config.md documents every key with an example.
type FileConfig struct {
	Listeners   []ListenerFile  `yaml:"listeners"`
	Auth        AuthFile        `yaml:"auth"`
	Limits      LimitsFile      `yaml:"limits"`
	Features    FeaturesFile    `yaml:"features"`
	SysInterval *time.Duration  `yaml:"sys_interval"`
	Metrics     MetricsFile     `yaml:"metrics"`
	Persistence PersistenceFile `yaml:"persistence"`
	Log         LogFile         `yaml:"log"`

	dir string // directory of the file, for relative paths
}

// ListenerFile is one listener.
type ListenerFile struct {
	Name          string   `yaml:"name"`
	Kind          string   `yaml:"kind"` // tcp, tls, ws, wss
	Address       string   `yaml:"address"`
	WebSocketPath string   `yaml:"websocket_path"`
	Allow         []string `yaml:"allow"`
	Deny          []string `yaml:"deny"`
	TLS           *TLSFile `yaml:"tls"`
	// UseIdentityAsUsername makes the client certificate's Common Name the
	// user name (no password needed), like Mosquitto's option of that name.
	UseIdentityAsUsername bool `yaml:"use_identity_as_username"`
	// Auth, when present, replaces the top-level auth section for this
	// listener's clients (Mosquitto's per_listener_settings): an empty
	// section makes an open listener on a secured broker.
	Auth *AuthFile `yaml:"auth"`
}

// TLSFile is the TLS part of a tls or wss listener.
type TLSFile struct {
	Cert        string `yaml:"cert"`
	Key         string `yaml:"key"`
	CA          string `yaml:"ca"`
	ClientCerts string `yaml:"client_certs"` // none, optional, require
	MinVersion  string `yaml:"min_version"`  // 1.2, 1.3
}

// AuthFile selects authentication and authorisation.
type AuthFile struct {
	AllowAnonymous *bool  `yaml:"allow_anonymous"`
	PasswordFile   string `yaml:"password_file"` // Mosquitto format ($6$, $7$, bcrypt)
	ACLFile        string `yaml:"acl_file"`      // Mosquitto format
	// SCRAM offers SCRAM-SHA-256 enhanced authentication (MQTT 5) to the
	// password file's users that have SCRAM-SHA-256 entries.
	SCRAM bool `yaml:"scram"`
}

// LimitsFile mirrors the limits of Config.
type LimitsFile struct {
	MaxPacketSize     int           `yaml:"max_packet_size"`
	ReceiveMaximum    uint16        `yaml:"receive_maximum"`
	MaxInflight       int           `yaml:"max_inflight"`
	MaxQueued         int           `yaml:"max_queued"`
	TopicAliasMaximum uint16        `yaml:"topic_alias_maximum"`
	MaxTopicLength    int           `yaml:"max_topic_length"`
	MaxTopicLevels    int           `yaml:"max_topic_levels"`
	MaxSessionExpiry  time.Duration `yaml:"max_session_expiry"`
	ServerKeepAlive   time.Duration `yaml:"server_keep_alive"`
	ConnectTimeout    time.Duration `yaml:"connect_timeout"`
	MaxConnections    int           `yaml:"max_connections"`
}

// FeaturesFile turns optional features off (all default to on).
type FeaturesFile struct {
	Retain                  *bool `yaml:"retain"`
	WildcardSubscriptions   *bool `yaml:"wildcard_subscriptions"`
	SubscriptionIdentifiers *bool `yaml:"subscription_identifiers"`
	SharedSubscriptions     *bool `yaml:"shared_subscriptions"`
	MaximumQoS              *byte `yaml:"maximum_qos"`
}

// MetricsFile enables the Prometheus endpoint.
type MetricsFile struct {
	Address string `yaml:"address"` // e.g. 127.0.0.1:9100; empty: off
}

// PersistenceFile enables persistence.
type PersistenceFile struct {
	Path             string        `yaml:"path"`
	AutosaveInterval time.Duration `yaml:"autosave_interval"`
}

// LogFile sets logging.
type LogFile struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text, json
}

// LoadConfigFile reads and checks a YAML configuration file.
func LoadConfigFile(path string) (*FileConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	fc, err := ParseConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	fc.dir = filepath.Dir(path)
	return fc, nil
}

// ParseConfig reads a YAML configuration; relative paths in it are taken
// relative to the working directory.
func ParseConfig(r io.Reader) (*FileConfig, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var fc FileConfig
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	for i, l := range fc.Listeners {
		if l.Kind == "" {
			return nil, fmt.Errorf("listeners[%d]: kind is required (tcp, tls, ws, wss)", i)
		}
		if l.Address == "" {
			return nil, fmt.Errorf("listeners[%d]: address is required", i)
		}
		secure := l.Kind == listener.KindTLS || l.Kind == listener.KindWSS
		if secure && l.TLS == nil {
			return nil, fmt.Errorf("listeners[%d] (%s): kind %s needs a tls section", i, l.Address, l.Kind)
		}
		if l.UseIdentityAsUsername && (l.TLS == nil || l.TLS.ClientCerts == "" || l.TLS.ClientCerts == listener.ClientCertsNone) {
			return nil, fmt.Errorf("listeners[%d] (%s): use_identity_as_username needs tls.client_certs optional or require", i, l.Address)
		}
		if a := l.Auth; a != nil && a.SCRAM && a.PasswordFile == "" {
			return nil, fmt.Errorf("listeners[%d] (%s): auth.scram needs a password_file with SCRAM-SHA-256 entries", i, l.Address)
		}
	}
	// A persisted session finds its listener's own auth again by name.
	secured := map[string]int{}
	for i, l := range fc.Listeners {
		if l.Auth == nil {
			continue
		}
		if j, dup := secured[l.name(i)]; dup {
			return nil, fmt.Errorf("listeners[%d] and listeners[%d] are both named %q and have their own auth sections; give them different names", j, i, l.name(i))
		}
		secured[l.name(i)] = i
	}
	if q := fc.Features.MaximumQoS; q != nil && *q > 2 {
		return nil, fmt.Errorf("features.maximum_qos is %d; it must be 0, 1 or 2", *q)
	}
	return &fc, nil
}

func (fc *FileConfig) path(p string) string {
	if p == "" || filepath.IsAbs(p) || fc.dir == "" {
		return p
	}
	return filepath.Join(fc.dir, p)
}

// BrokerConfig builds the broker Config, loading the password and ACL files.
func (fc *FileConfig) BrokerConfig() (Config, error) {
	cfg := Config{
		MaxPacketSize: fc.Limits.MaxPacketSize, ReceiveMaximum: fc.Limits.ReceiveMaximum,
		MaxInflight: fc.Limits.MaxInflight, MaxQueued: fc.Limits.MaxQueued,
		TopicAliasMaximum: fc.Limits.TopicAliasMaximum, MaxTopicLength: fc.Limits.MaxTopicLength,
		MaxTopicLevels: fc.Limits.MaxTopicLevels, MaxSessionExpiry: fc.Limits.MaxSessionExpiry,
		ServerKeepAlive: fc.Limits.ServerKeepAlive, ConnectTimeout: fc.Limits.ConnectTimeout,
		MaxConnections: fc.Limits.MaxConnections, MaximumQoS: fc.Features.MaximumQoS,
		PersistencePath: fc.path(fc.Persistence.Path), AutosaveInterval: fc.Persistence.AutosaveInterval,
		SysInterval: 10 * time.Second,
	}
	off := func(b *bool) bool { return b != nil && !*b }
	cfg.DisableRetain = off(fc.Features.Retain)
	cfg.DisableWildcardSubscriptions = off(fc.Features.WildcardSubscriptions)
	cfg.DisableSubscriptionIdentifier = off(fc.Features.SubscriptionIdentifiers)
	cfg.DisableSharedSubscriptions = off(fc.Features.SharedSubscriptions)
	if fc.SysInterval != nil {
		cfg.SysInterval = *fc.SysInterval
	}
	sec, err := fc.security(fc.Auth, "auth")
	if err != nil {
		return cfg, err
	}
	cfg.AllowAnonymous, cfg.Authenticator, cfg.EnhancedAuth, cfg.Authorizer =
		sec.AllowAnonymous, sec.Authenticator, sec.EnhancedAuth, sec.Authorizer
	return cfg, nil
}

// ListenerSecurities returns, for each listener in order, the Security
// its own auth section describes, or nil for a listener that follows the
// top-level auth section.
func (fc *FileConfig) ListenerSecurities() ([]*Security, error) {
	out := make([]*Security, len(fc.Listeners))
	for i, l := range fc.Listeners {
		if l.Auth == nil {
			continue
		}
		sec, err := fc.security(*l.Auth, fmt.Sprintf("listeners[%d].auth", i))
		if err != nil {
			return nil, err
		}
		out[i] = sec
	}
	return out, nil
}

// security builds the Security of an auth section, loading its files;
// where names the section in errors.
func (fc *FileConfig) security(a AuthFile, where string) (*Security, error) {
	// Anonymous access is on unless a password file is given or it is
	// switched off explicitly.
	sec := &Security{AllowAnonymous: a.PasswordFile == ""}
	if a.AllowAnonymous != nil {
		sec.AllowAnonymous = *a.AllowAnonymous
	}
	if a.PasswordFile != "" {
		pw, err := auth.LoadPasswordFile(fc.path(a.PasswordFile))
		if err != nil {
			return nil, fmt.Errorf("%s.password_file: %w", where, err)
		}
		sec.Authenticator = pw
		if a.SCRAM {
			sec.EnhancedAuth = append(sec.EnhancedAuth, SCRAMAuth(pw.SCRAM, nil))
		}
	} else if a.SCRAM {
		return nil, fmt.Errorf("%s.scram needs a password_file with SCRAM-SHA-256 entries", where)
	} else if !sec.AllowAnonymous {
		// No password file and no anonymous access: nobody gets in.
		sec.Authenticator = auth.CheckerFunc(func(string, string, []byte, bool, bool) bool { return false })
	}
	if a.ACLFile != "" {
		acl, err := auth.LoadACLFile(fc.path(a.ACLFile))
		if err != nil {
			return nil, fmt.Errorf("%s.acl_file: %w", where, err)
		}
		sec.Authorizer = acl
	}
	return sec, nil
}

// name is the listener's name, by default <kind>-<index>.
func (l ListenerFile) name(i int) string {
	if l.Name != "" {
		return l.Name
	}
	return fmt.Sprintf("%s-%d", l.Kind, i)
}

// ListenerConfigs builds the listener configurations.
func (fc *FileConfig) ListenerConfigs() []listener.Config {
	out := make([]listener.Config, 0, len(fc.Listeners))
	for i, l := range fc.Listeners {
		lc := listener.Config{Name: l.name(i), Kind: strings.ToLower(l.Kind), Address: l.Address,
			WebSocketPath: l.WebSocketPath, Allow: l.Allow, Deny: l.Deny}
		if t := l.TLS; t != nil {
			lc.TLS = &listener.TLSConfig{CertFile: fc.path(t.Cert), KeyFile: fc.path(t.Key), CAFile: fc.path(t.CA),
				ClientCerts: t.ClientCerts, MinVersion: t.MinVersion}
		}
		out = append(out, lc)
	}
	return out
}
