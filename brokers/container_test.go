// These tests start the built-in profiles' containers. Without a Docker
// engine or without the images of `make images` they are skipped, except
// when MQTTSPEC_REQUIRE_DOCKER=1 (set by .ci/run): then the absence fails
// them, so that CI can never pass by skipping.

package brokers

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// needContainers skips (or, with MQTTSPEC_REQUIRE_DOCKER=1, fails) the test
// when the Docker engine or the profile's image is missing.
func needContainers(t *testing.T, p *Profile) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cli, err := dockerClient(ctx)
	if err == nil {
		defer cli.Close()
		_, _, err = findImage(ctx, cli, p)
	}
	if err == nil {
		return
	}
	if os.Getenv("MQTTSPEC_REQUIRE_DOCKER") == "1" {
		t.Fatalf("MQTTSPEC_REQUIRE_DOCKER=1 and the containers cannot run: %v", err)
	}
	t.Skipf("needs the Docker engine and `make images` (MQTTSPEC_REQUIRE_DOCKER=1 makes this a failure): %v", err)
}

func TestContainerProfiles(t *testing.T) {
	for _, name := range []string{"reference", "mosquitto", "mochi", "nats", "rabbitmq"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			p, err := LoadProfile(name)
			if err != nil {
				t.Fatal(err)
			}
			needContainers(t, p)
			tg, err := StartContainer(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			id := tg.ContainerID()
			closed := false
			t.Cleanup(func() {
				if !closed {
					tg.Close(context.Background())
				}
			})
			if !strings.HasPrefix(tg.Endpoint.URL, "tcp://127.0.0.1:") {
				t.Errorf("endpoint %s, want tcp://127.0.0.1:<port>", tg.Endpoint.URL)
			}
			if err := tg.Alive(ctx); err != nil {
				t.Fatalf("Alive: %v", err)
			}
			if err := Probe(ctx, tg.Endpoint); err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if tg.Capabilities.Versions == nil {
				t.Error("no MQTT versions declared")
			}
			if p.Auth.Kind == AuthMosquittoFiles {
				checkAuthEndpoint(t, ctx, tg)
			}
			if _, ok := p.Ports["ws"]; ok {
				if tg.WebSocket == nil {
					t.Fatal("the profile has a ws port but the target no WebSocket endpoint")
				}
				if err := Probe(ctx, *tg.WebSocket); err != nil {
					t.Errorf("WebSocket endpoint %s: %v", tg.WebSocket.URL, err)
				}
			}
			logs, err := tg.Logs(ctx)
			if err != nil || strings.TrimSpace(logs) == "" {
				t.Errorf("Logs: %q, %v; want the broker's output", logs, err)
			}

			before := tg.Endpoint.URL
			if err := tg.Stop(ctx); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if err := tg.Alive(ctx); err == nil {
				t.Error("Alive after Stop: nil, want an error")
			}
			if err := tg.Start(ctx); err != nil {
				t.Fatalf("Start: %v", err)
			}
			if tg.Endpoint.URL == before {
				// Docker may hand out the same port again; the broker must answer either way.
				t.Logf("the mapped port did not change (%s)", before)
			}
			if err := tg.Alive(ctx); err != nil {
				t.Fatalf("Alive after Start (%s, was %s): %v", tg.Endpoint.URL, before, err)
			}
			if p.Auth.Kind == AuthMosquittoFiles {
				checkAuthEndpoint(t, ctx, tg)
			}

			if err := tg.Pause(ctx); err != nil {
				t.Fatalf("Pause: %v", err)
			}
			if err := tg.Alive(ctx); err == nil {
				t.Error("Alive while paused: nil, want an error")
			}
			if err := tg.Unpause(ctx); err != nil {
				t.Fatalf("Unpause: %v", err)
			}
			if err := tg.Alive(ctx); err != nil {
				t.Fatalf("Alive after Unpause: %v", err)
			}

			if err := tg.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			closed = true
			if err := tg.Stop(ctx); err == nil {
				t.Error("Stop after Close: nil, want an error")
			}
			if logs, _ := tg.Logs(ctx); strings.TrimSpace(logs) == "" {
				t.Error("Logs after Close: empty, want the last logs read")
			}
			if out := dockerPS(t, "id="+id); out != "" {
				t.Errorf("container %s still exists after Close: %s", id, out)
			}
		})
	}
}

// checkAuthEndpoint: the authenticated listener answers a CONNECT (it
// refuses an anonymous one with a CONNACK).
func checkAuthEndpoint(t *testing.T, ctx context.Context, tg *Target) {
	t.Helper()
	if tg.Auth == nil || !strings.HasPrefix(tg.Auth.Endpoint.URL, "tcp://127.0.0.1:") {
		t.Fatalf("auth setup %+v, want an endpoint on 127.0.0.1", tg.Auth)
	}
	if err := Probe(ctx, tg.Auth.Endpoint); err != nil {
		t.Errorf("auth endpoint %s: %v", tg.Auth.Endpoint.URL, err)
	}
	if tg.Auth.CertEndpoint != nil && !strings.HasPrefix(tg.Auth.CertEndpoint.URL, "ssl://127.0.0.1:") {
		t.Errorf("certificate endpoint %s, want ssl://127.0.0.1:<port>", tg.Auth.CertEndpoint.URL)
	}
}

func dockerPS(t *testing.T, filter string) string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-a", "-q", "--filter", "label=org.testcontainers=true", "--filter", filter).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func TestContainerImageMissing(t *testing.T) {
	p, err := LoadProfile("mosquitto")
	if err != nil {
		t.Fatal(err)
	}
	needContainers(t, p)
	t.Setenv(p.ImageEnv(), "mqttspec/no-such-image:0")
	_, err = StartContainer(context.Background(), p)
	if !errors.Is(err, ErrImageMissing) || !strings.Contains(err.Error(), "make images") {
		t.Fatalf("err = %v, want ErrImageMissing naming make images", err)
	}
}

// TestNoDockerError: the engine cannot be made to vanish here
// (testcontainers falls back to /var/run/docker.sock whatever DOCKER_HOST
// says), so this checks the message the launcher gives.
func TestNoDockerError(t *testing.T) {
	err := noDockerError(errors.New("Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\nIs the docker daemon running?"))
	if !errors.Is(err, ErrNoDocker) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "--target") {
		t.Fatalf("err = %v, want one line saying there is no Docker and that --target works", err)
	}
}
