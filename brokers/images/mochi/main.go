// Command mochi runs the mochi-mqtt broker (github.com/mochi-mqtt/server/v2) with
// an allow-all auth hook, for the mqttspec/mochi container image: MQTT over TCP on
// :1883 and MQTT over WebSocket on :8080. Flags change the addresses; an empty
// address turns that listener off.
package main

import (
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

func main() {
	tcpAddr := flag.String("tcp", ":1883", "MQTT over TCP listen address (empty: off)")
	wsAddr := flag.String("ws", ":8080", "MQTT over WebSocket listen address (empty: off)")
	level := flag.String("log-level", "info", "log level: debug, info, warn, error")
	flag.Parse()

	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fail("bad --log-level", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: lv}))

	server := mqtt.New(&mqtt.Options{InlineClient: true, Logger: logger})
	if err := server.AddHook(new(auth.AllowHook), nil); err != nil {
		fail("auth hook", err)
	}
	if *tcpAddr != "" {
		if err := server.AddListener(listeners.NewTCP(listeners.Config{ID: "tcp", Address: *tcpAddr})); err != nil {
			fail("tcp listener", err)
		}
	}
	if *wsAddr != "" {
		if err := server.AddListener(listeners.NewWebsocket(listeners.Config{ID: "ws", Address: *wsAddr})); err != nil {
			fail("websocket listener", err)
		}
	}

	// Serve starts the listeners in the background and returns.
	if err := server.Serve(); err != nil {
		fail("serve", err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	s := <-sigs
	logger.Info("caught signal, stopping", "signal", s.String())
	_ = server.Close()
}

func fail(what string, err error) {
	slog.Error(what, "err", err)
	os.Exit(1)
}
