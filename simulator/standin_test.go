//go:build unix

package simulator

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// BenchmarkPahoClientPerDevice is the comparison point for the
// simulator's messages per CPU-second: the method of the usual Go MQTT
// load generator (krylovsk/mqtt-benchmark, which cannot be fetched here),
// rebuilt on the library it uses: one paho.mqtt.golang client per device,
// each publishing its messages in a closed loop (publish, wait for the
// acknowledgement, publish the next). Like the simulator's benchmark it
// needs a broker in another process:
//
//	mqttspec broker --listen 127.0.0.1:18830 --log-level warn &
//	SIM_TARGET=tcp://127.0.0.1:18830 SIM_CLIENTS=1000 SIM_MESSAGES=400 SIM_QOS=0 \
//	  go test ./simulator -run '^$' -bench PahoClientPerDevice -benchtime 1x
//
// It reports messages per second and per CPU-second of this process (user
// and system time from getrusage, so the broker's CPU is not counted).
func BenchmarkPahoClientPerDevice(b *testing.B) {
	target := os.Getenv("SIM_TARGET")
	if target == "" {
		b.Skip("set SIM_TARGET to a broker in another process (see the comment)")
	}
	env := func(name string, def int) int {
		if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n >= 0 {
			return n
		}
		return def
	}
	clients, messages, qos := env("SIM_CLIENTS", 100), env("SIM_MESSAGES", 1000), byte(env("SIM_QOS", 0))
	payload := make([]byte, 100) // mqtt-benchmark's default size
	for range b.N {
		conns := make([]mqtt.Client, clients)
		for i := range conns {
			o := mqtt.NewClientOptions().AddBroker(target).SetClientID(fmt.Sprintf("paho-bench-%d", i)).
				SetCleanSession(true).SetAutoReconnect(false)
			c := mqtt.NewClient(o)
			if t := c.Connect(); !t.WaitTimeout(30*time.Second) || t.Error() != nil {
				b.Fatalf("client %d: connect: %v", i, t.Error())
			}
			conns[i] = c
		}
		cpu0 := cpuTime()
		start := time.Now()
		var wg sync.WaitGroup
		for i, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				topic := fmt.Sprintf("bench/%d", i)
				for range messages {
					t := c.Publish(topic, qos, false, payload)
					if !t.WaitTimeout(30 * time.Second) {
						b.Errorf("client %d: publish timed out", i)
						return
					}
				}
			}()
		}
		wg.Wait()
		wall, cpu := time.Since(start), cpuTime()-cpu0
		for _, c := range conns {
			c.Disconnect(100)
		}
		total := float64(clients * messages)
		b.ReportMetric(total/wall.Seconds(), "msgs/s")
		b.ReportMetric(total/cpu.Seconds(), "msgs/CPU-s")
		b.ReportMetric(cpu.Seconds(), "CPU-s")
	}
}

// cpuTime is this process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
