package broker

import (
	"errors"
	"fmt"

	"github.com/mqttspec/mqttspec/reference/broker/auth/scram"
)

// SCRAMAuth offers SCRAM-SHA-256 (RFC 7677) as an MQTT 5 enhanced
// authentication method, with credentials from lookup (for example
// (*auth.Passwords).SCRAM). secret derives the fake salts shown for unknown
// users; keep it stable across restarts, or pass nil for a random one.
func SCRAMAuth(lookup func(username string) (scram.Credentials, bool), secret []byte) EnhancedAuth {
	return scramAuth{lookup: lookup, secret: secret}
}

type scramAuth struct {
	lookup func(string) (scram.Credentials, bool)
	secret []byte
}

func (scramAuth) Method() string { return scram.Mechanism }

func (a scramAuth) Start(string) AuthConversation {
	var opts []scram.ServerOption
	if a.secret != nil {
		opts = append(opts, scram.WithSecret(a.secret))
	}
	return scramConv{scram.NewServer(a.lookup, nil, opts...)}
}

type scramConv struct{ s *scram.Server }

func (c scramConv) Step(data []byte) ([]byte, bool, string, error) {
	out, done, user, err := c.s.Step(data)
	switch {
	case err == nil:
	case errors.Is(err, scram.ErrBadCredentials):
		err = fmt.Errorf("%w: %w", ErrBadCredentials, err)
	default:
		err = fmt.Errorf("%w: %w", ErrNotAuthorized, err)
	}
	return out, done, user, err
}
