package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mqttspec/mqttspec/reference/broker"
)

// newBrokerCmd runs the reference broker as a server until interrupted.
func newBrokerCmd() *cobra.Command {
	var (
		listens       []string
		maxPacketSize int
		sysInterval   time.Duration
		logLevel      string
	)
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run the reference MQTT broker (3.1, 3.1.1 and 5.0) on TCP listeners",
		Long: `Run mqttspec's reference broker: the strict MQTT 3.1 / 3.1.1 / 5.0 server the
conformance suite uses by default. It serves plain TCP on every --listen address
until interrupted (SIGINT/SIGTERM), then tells 5.0 clients it is shutting down.

Not yet available: TLS and WebSocket listeners, password and ACL files, a YAML
config file, persistence and metrics.`,
		Example: `  mqttspec broker --listen 127.0.0.1:1883
  mosquitto_sub -h 127.0.0.1 -t 'Long-Home/#' -v`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return usageErrorf("--log-level %q: want debug, info, warn or error", logLevel)
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			b := broker.New(broker.Config{MaxPacketSize: maxPacketSize, SysInterval: sysInterval, Logger: logger})
			errs := make(chan error, len(listens))
			for _, addr := range listens {
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					b.Shutdown(context.Background())
					return fmt.Errorf("listen on %s: %w", addr, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "mqttspec broker listening on %s\n", ln.Addr())
				go func() { errs <- b.Serve(ln) }()
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var serveErr error
			select {
			case <-ctx.Done():
			case serveErr = <-errs:
			}
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := b.Shutdown(sctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			if serveErr != nil && serveErr != broker.ErrClosed {
				return serveErr
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&listens, "listen", []string{"127.0.0.1:1883"}, "TCP address to serve MQTT on (repeatable)")
	f.IntVar(&maxPacketSize, "max-packet-size", 1<<20, "largest packet accepted, in bytes")
	f.DurationVar(&sysInterval, "sys-interval", 10*time.Second, "how often $SYS statistics are published (0 disables)")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	return cmd
}
