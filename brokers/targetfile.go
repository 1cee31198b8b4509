package brokers

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// TargetFile describes a broker the user runs, for `mqttspec run
// --target-file F`: where it listens, what it supports, and the
// credentials and ACL the authentication specs may use. Unknown keys are
// errors; relative paths are relative to the file.
//
//	url: tcp://127.0.0.1:1883
//	name: my broker 1.2
//	websocket: ws://127.0.0.1:8080/mqtt  # the same broker over WebSocket (section 6 specs)
//	login: {username: tester, password: secret}  # sent by every client, if anonymous access is off
//	capabilities: {maximum_qos: 2, retain: true, wildcards: true,
//	               shared_subscriptions: true, subscription_identifiers: true}
//	auth:
//	  url: tcp://127.0.0.1:1884          # anonymous clients are refused here
//	  users: [{username: alice, password: secret}]
//	  acl:                                # rights of acl.user
//	    user: {username: alice, password: secret}
//	    prefix: mqttspec/acl/             # readable and writable
//	    denied_topic: mqttspec/acl/denied # neither readable nor writable
//	    read_only_topic: mqttspec/acl-readonly
//	    writer: {username: carol, password: other}  # may write the two above
//	  tls:                                # a listener requiring client certificates
//	    url: ssl://127.0.0.1:8883
//	    ca: ca.crt
//	    cert: client.crt                  # its Common Name is the user
//	    key: client.key
//	    user: alice
type TargetFile struct {
	URL          string           `yaml:"url"`
	Name         string           `yaml:"name"`
	WebSocket    string           `yaml:"websocket"`
	CAFile       string           `yaml:"ca"`
	Capabilities *CapabilityFile  `yaml:"capabilities"`
	Auth         *AuthFileSection `yaml:"auth"`
	// Login is sent by every spec client on url and websocket, for a
	// broker that admits no anonymous client.
	Login *Credential `yaml:"login"`
}

// CapabilityFile declares optional features; absent keys mean supported.
type CapabilityFile struct {
	Versions                []string `yaml:"versions"`
	MaximumQoS              *int     `yaml:"maximum_qos"`
	Retain                  *bool    `yaml:"retain"`
	Wildcards               *bool    `yaml:"wildcards"`
	SharedSubscriptions     *bool    `yaml:"shared_subscriptions"`
	SubscriptionIdentifiers *bool    `yaml:"subscription_identifiers"`
	TopicAliasMaximum       *int     `yaml:"topic_alias_maximum"`
	SessionExpiry           *bool    `yaml:"session_expiry"`
}

// AuthFileSection is the authentication fixture.
type AuthFileSection struct {
	URL   string       `yaml:"url"`
	Users []Credential `yaml:"users"`
	ACL   *struct {
		User          Credential  `yaml:"user"`
		Prefix        string      `yaml:"prefix"`
		DeniedTopic   string      `yaml:"denied_topic"`
		ReadOnlyTopic string      `yaml:"read_only_topic"`
		Writer        *Credential `yaml:"writer"`
	} `yaml:"acl"`
	TLS *struct {
		URL  string `yaml:"url"`
		CA   string `yaml:"ca"`
		Cert string `yaml:"cert"`
		Key  string `yaml:"key"`
		User string `yaml:"user"`
	} `yaml:"tls"`
	EnhancedAuth []string `yaml:"enhanced_auth"`
}

// LoadTargetFile reads a target file and builds the Target.
func LoadTargetFile(path string) (*Target, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("target file: %w", err)
	}
	defer f.Close()
	t, err := ParseTargetFile(f, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("target file %s: %w", path, err)
	}
	return t, nil
}

// ParseTargetFile reads a target file; dir resolves relative paths.
func ParseTargetFile(r io.Reader, dir string) (*Target, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var tf TargetFile
	if err := dec.Decode(&tf); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty file: it needs at least url")
		}
		return nil, err
	}
	if tf.URL == "" {
		return nil, errors.New("url is required (e.g. tcp://127.0.0.1:1883)")
	}
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	var tlsConf *tls.Config
	if tf.CAFile != "" {
		c, err := tlsTrusting(rel(tf.CAFile))
		if err != nil {
			return nil, err
		}
		tlsConf = c
	}
	t, err := FromURL(tf.URL, tlsConf)
	if err != nil {
		return nil, err
	}
	if tf.Name != "" {
		t.Name = tf.Name
	}
	t.Profile = "target-file"
	if l := tf.Login; l != nil {
		if l.Username == "" {
			return nil, errors.New("login.username is required (login: {username: u, password: p})")
		}
		t.Login = l
	}
	if tf.WebSocket != "" {
		ws, err := FromURL(tf.WebSocket, tlsConf)
		if err != nil || ws.WebSocket == nil {
			return nil, fmt.Errorf("websocket %q: want a ws:// or wss:// URL", tf.WebSocket)
		}
		t.WebSocket = ws.WebSocket
	}
	if c := tf.Capabilities; c != nil {
		if err := applyCapabilities(&t.Capabilities, c); err != nil {
			return nil, fmt.Errorf("capabilities: %w", err)
		}
	}
	if a := tf.Auth; a != nil {
		if a.URL == "" {
			return nil, errors.New("auth.url is required")
		}
		setup := &AuthSetup{Endpoint: Endpoint{URL: a.URL, TLS: tlsConf}, Users: a.Users, EnhancedAuth: a.EnhancedAuth}
		if acl := a.ACL; acl != nil {
			if acl.Prefix == "" || acl.DeniedTopic == "" || acl.User.Username == "" {
				return nil, errors.New("auth.acl needs user, prefix and denied_topic")
			}
			setup.ACL = &ACLSetup{User: acl.User, Prefix: acl.Prefix, DeniedTopic: acl.DeniedTopic,
				ReadOnlyTopic: acl.ReadOnlyTopic, Writer: acl.Writer}
		}
		if tc := a.TLS; tc != nil {
			if tc.URL == "" || tc.CA == "" || tc.Cert == "" || tc.Key == "" || tc.User == "" {
				return nil, errors.New("auth.tls needs url, ca, cert, key and user")
			}
			base, err := tlsTrusting(rel(tc.CA))
			if err != nil {
				return nil, err
			}
			pair, err := tls.LoadX509KeyPair(rel(tc.Cert), rel(tc.Key))
			if err != nil {
				return nil, fmt.Errorf("auth.tls client certificate: %w", err)
			}
			withCert := base.Clone()
			withCert.Certificates = []tls.Certificate{pair}
			setup.CertEndpoint = &Endpoint{URL: tc.URL, TLS: withCert}
			setup.CertUser = tc.User
			setup.NoCertTLS = base
		}
		t.Auth = setup
	}
	return t, nil
}

func tlsTrusting(caFile string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate", caFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

func applyCapabilities(c *Capabilities, f *CapabilityFile) error {
	if len(f.Versions) > 0 {
		c.Versions = nil
		for _, s := range f.Versions {
			v, err := packet.ParseVersion(s)
			if err != nil {
				return err
			}
			c.Versions = append(c.Versions, v)
		}
	}
	if f.MaximumQoS != nil {
		if *f.MaximumQoS < 0 || *f.MaximumQoS > 2 {
			return fmt.Errorf("maximum_qos %d: want 0, 1 or 2", *f.MaximumQoS)
		}
		c.MaximumQoS = packet.QoS(*f.MaximumQoS)
	}
	set := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	set(&c.Retain, f.Retain)
	set(&c.Wildcards, f.Wildcards)
	set(&c.SharedSubscriptions, f.SharedSubscriptions)
	set(&c.SubscriptionIdentifiers, f.SubscriptionIdentifiers)
	set(&c.SessionExpiry, f.SessionExpiry)
	if f.TopicAliasMaximum != nil {
		if *f.TopicAliasMaximum < 0 || *f.TopicAliasMaximum > 65535 {
			return fmt.Errorf("topic_alias_maximum %d out of range", *f.TopicAliasMaximum)
		}
		c.TopicAliasMaximum = uint16(*f.TopicAliasMaximum)
	}
	return nil
}
