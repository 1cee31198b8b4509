package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mqttspec/mqttspec/reference/broker"
)

// brokerFlags are the command-line settings; they override or extend the
// configuration file.
type brokerFlags struct {
	config         string
	listens        []string
	cert, key, ca  string
	clientCerts    string
	identityAsUser bool
	passwordFile   string
	aclFile        string
	allowAnonymous bool
	metrics        string
	persistence    string
	maxPacketSize  int
	sysInterval    time.Duration
	logLevel       string
}

// newBrokerCmd runs the reference broker as a server until interrupted.
func newBrokerCmd() *cobra.Command {
	var f brokerFlags
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run the reference MQTT broker (3.1, 3.1.1 and 5.0)",
		Long: `Run mqttspec's reference broker: the strict MQTT 3.1 / 3.1.1 / 5.0 server the
conformance suite uses by default. It serves until interrupted (SIGINT/SIGTERM),
then tells 5.0 clients it is shutting down and saves persisted state.

Listeners: --listen takes host:port (plain TCP) or a URL: tcp://, tls:// (also
mqtts://, ssl://), ws://host:port/path, wss://host:port/path. TLS listeners use
--cert/--key, and --cafile with --client-certs optional|require.
A YAML file (--config, see docs/broker-config.md) sets everything; flags given
on the command line add listeners and override its settings.`,
		Example: `  mqttspec broker --listen 127.0.0.1:1883
  mqttspec broker --listen 127.0.0.1:1883 --password-file passwd --acl-file acl
  mqttspec broker --listen tls://127.0.0.1:8883 --cert server.crt --key server.key \
      --cafile ca.crt --client-certs require --use-identity-as-username
  mqttspec broker --config broker.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fc, err := f.fileConfig(cmd)
			if err != nil {
				return err
			}
			logger, err := newLogger(cmd, f.logLevel, fc.Log)
			if err != nil {
				return err
			}
			srv, err := broker.StartServer(fc, logger)
			if err != nil {
				return err
			}
			for _, a := range srv.Addrs() {
				fmt.Fprintf(cmd.OutOrStdout(), "mqttspec broker listening on %s\n", a)
			}
			if m := srv.MetricsAddr(); m != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "metrics on http://%s/metrics\n", m)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var serveErr error
			select {
			case <-ctx.Done():
			case serveErr = <-srv.Errors():
			}
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Close(sctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			if serveErr != nil && serveErr != broker.ErrClosed {
				return serveErr
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "YAML configuration file")
	fl.StringArrayVar(&f.listens, "listen", nil, "listener address or URL (repeatable; default 127.0.0.1:1883 without --config)")
	fl.StringVar(&f.cert, "cert", "", "server certificate (PEM) for tls:// and wss:// listeners")
	fl.StringVar(&f.key, "key", "", "server private key (PEM)")
	fl.StringVar(&f.ca, "cafile", "", "CA certificates (PEM) that client certificates must chain to")
	fl.StringVar(&f.clientCerts, "client-certs", "none", "client certificates on TLS listeners: none, optional, require")
	fl.BoolVar(&f.identityAsUser, "use-identity-as-username", false, "use the client certificate's Common Name as user name")
	fl.StringVar(&f.passwordFile, "password-file", "", "Mosquitto-format password file ($6$, $7$ or bcrypt hashes)")
	fl.StringVar(&f.aclFile, "acl-file", "", "Mosquitto-format ACL file")
	fl.BoolVar(&f.allowAnonymous, "allow-anonymous", false, "allow clients without a user name (default: true unless a password file is given)")
	fl.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics on this address (e.g. 127.0.0.1:9100)")
	fl.StringVar(&f.persistence, "persistence", "", "bbolt file that keeps sessions and retained messages across restarts")
	fl.IntVar(&f.maxPacketSize, "max-packet-size", 0, "largest packet accepted, in bytes (default 1 MiB)")
	fl.DurationVar(&f.sysInterval, "sys-interval", 10*time.Second, "how often $SYS statistics are published (0 disables)")
	fl.StringVar(&f.logLevel, "log-level", "", "log level: debug, info, warn, error (default info)")
	return cmd
}

// fileConfig merges the configuration file and the flags.
func (f *brokerFlags) fileConfig(cmd *cobra.Command) (*broker.FileConfig, error) {
	fc := &broker.FileConfig{}
	if f.config != "" {
		var err error
		if fc, err = broker.LoadConfigFile(f.config); err != nil {
			return nil, err
		}
	}
	listens := f.listens
	if len(listens) == 0 && f.config == "" {
		listens = []string{"127.0.0.1:1883"}
	}
	for _, l := range listens {
		lf, err := f.listenerFlag(l)
		if err != nil {
			return nil, usageErrorf("--listen %q: %v", l, err)
		}
		fc.Listeners = append(fc.Listeners, lf)
	}
	set := func(name string) bool { return cmd.Flags().Changed(name) }
	if set("password-file") {
		fc.Auth.PasswordFile = f.passwordFile
	}
	if set("acl-file") {
		fc.Auth.ACLFile = f.aclFile
	}
	if set("allow-anonymous") {
		fc.Auth.AllowAnonymous = &f.allowAnonymous
	}
	if set("metrics") {
		fc.Metrics.Address = f.metrics
	}
	if set("persistence") {
		fc.Persistence.Path = f.persistence
	}
	if set("max-packet-size") {
		fc.Limits.MaxPacketSize = f.maxPacketSize
	}
	if set("sys-interval") || fc.SysInterval == nil {
		fc.SysInterval = &f.sysInterval
	}
	return fc, nil
}

// listenerFlag turns one --listen value into a listener.
func (f *brokerFlags) listenerFlag(s string) (broker.ListenerFile, error) {
	lf := broker.ListenerFile{Kind: "tcp", Address: s}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return lf, err
		}
		lf.Address = u.Host
		switch u.Scheme {
		case "tcp", "mqtt":
			lf.Kind = "tcp"
		case "tls", "ssl", "mqtts":
			lf.Kind = "tls"
		case "ws", "wss":
			lf.Kind = u.Scheme
			lf.WebSocketPath = u.Path
		default:
			return lf, fmt.Errorf("unknown scheme %q (want tcp, tls, ws or wss)", u.Scheme)
		}
	}
	if lf.Kind == "tls" || lf.Kind == "wss" {
		if f.cert == "" || f.key == "" {
			return lf, fmt.Errorf("a %s listener needs --cert and --key", lf.Kind)
		}
		lf.TLS = &broker.TLSFile{Cert: f.cert, Key: f.key, CA: f.ca, ClientCerts: f.clientCerts}
		lf.UseIdentityAsUsername = f.identityAsUser
		if f.identityAsUser && f.clientCerts == "none" {
			return lf, fmt.Errorf("--use-identity-as-username needs --client-certs optional or require")
		}
	}
	return lf, nil
}

func newLogger(cmd *cobra.Command, flagLevel string, lf broker.LogFile) (*slog.Logger, error) {
	levelText := lf.Level
	if flagLevel != "" {
		levelText = flagLevel
	}
	if levelText == "" {
		levelText = "info"
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(levelText)); err != nil {
		return nil, usageErrorf("log level %q: want debug, info, warn or error", levelText)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch lf.Format {
	case "", "text":
		return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", lf.Format)
}
