//go:build containers

// These tests start the built-in profiles' containers: they need a Docker
// engine and the images of `make images` (`make test-containers`).

package brokers

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestContainerProfiles(t *testing.T) {
	for _, name := range []string{"reference", "mosquitto", "mochi", "nats", "rabbitmq"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			p, err := LoadProfile(name)
			if err != nil {
				t.Fatal(err)
			}
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
	if out := dockerPS(t, "label="+LabelProfile); out != "" {
		t.Errorf("containers left behind: %s", out)
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
