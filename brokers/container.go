package brokers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/mqttspec/mqttspec/reference/broker/auth"
	"github.com/mqttspec/mqttspec/reference/broker/certgen"
)

// ErrNoDocker says no Docker engine answers.
var ErrNoDocker = errors.New("no Docker engine answers")

// ErrImageMissing says a profile's image is not on this machine.
var ErrImageMissing = errors.New("image not on this machine")

// LabelProfile is set on every container StartContainer creates (besides
// testcontainers' org.testcontainers=true).
const LabelProfile = "org.mqttspec.profile"

// maxContainerLogs bounds the logs Target.Logs returns (the end is kept).
const maxContainerLogs = 1 << 20

// StartContainer starts a broker from a profile through testcontainers-go:
// it renders the profile's files, creates the container with its ports
// published on 127.0.0.1, waits until it is ready (port, log line, a
// CONNECT answered) and returns the Target. The container is removed on any
// failure and by Target.Close; Target.Stop, Start, Pause, Unpause and
// Restart act on it (the mapped ports change on start: the Target's
// endpoints are updated).
//
// Unless they are set, StartContainer sets TESTCONTAINERS_RYUK_DISABLED=true
// (it removes its containers itself; the reaper image may not be pullable)
// and TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 (where the ports are published).
// It never pulls an image.
func StartContainer(ctx context.Context, p *Profile) (*Target, error) {
	for k, v := range map[string]string{"TESTCONTAINERS_RYUK_DISABLED": "true", "TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1"} {
		if _, ok := os.LookupEnv(k); !ok {
			os.Setenv(k, v)
		}
	}
	caps, err := p.capabilities()
	if err != nil {
		return nil, fmt.Errorf("profile %s: capabilities: %w", p.Name, err)
	}
	timeout, err := p.waitTimeout()
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}

	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	image, version, err := findImage(ctx, cli, p)
	cli.Close()
	if err != nil {
		return nil, err
	}

	files, authSetup, err := p.renderFiles()
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}

	names := sortedPortNames(p.Ports)
	var exposed []string
	for _, n := range names {
		exposed = append(exposed, fmt.Sprintf("%d/tcp", p.Ports[n]))
	}
	waitPort := p.Wait.Port
	if waitPort == "" {
		waitPort = "mqtt"
	}
	// The port check runs from the host only: scratch images have no shell.
	strategies := []wait.Strategy{wait.ForListeningPort(fmt.Sprintf("%d/tcp", p.Ports[waitPort])).SkipInternalCheck()}
	if p.Wait.Log != "" {
		strategies = append(strategies, wait.ForLog(p.Wait.Log).AsRegexp())
	}
	req := testcontainers.ContainerRequest{
		Image:        image,
		Entrypoint:   p.Entrypoint,
		Cmd:          p.Command,
		Env:          p.Env,
		ExposedPorts: exposed,
		Files:        files,
		Labels:       map[string]string{LabelProfile: p.Name},
		WaitingFor:   wait.ForAll(strategies...).WithDeadline(timeout),
		// Published on loopback only: a broker under test is nobody else's.
		HostConfigModifier: func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{}
			for _, n := range names {
				port := network.MustParsePort(fmt.Sprintf("%d/tcp", p.Ports[n]))
				hc.PortBindings[port] = []network.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "0"}}
			}
		},
	}
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: req, Started: true, Logger: tclog.NewNoopLogger()})
	h := &containerHandle{profile: p, image: image, timeout: timeout}
	h.c, _ = c.(*testcontainers.DockerContainer)
	if err != nil {
		return nil, h.fail(fmt.Errorf("%s (%s) did not start: %w", p.Name, image, err))
	}
	if h.c == nil {
		return nil, fmt.Errorf("%s: testcontainers returned %T, not a Docker container", p.Name, c)
	}

	t := &Target{
		Name:          fmt.Sprintf("%s %s (container %s)", p.Name, version, image),
		Profile:       p.Name,
		BrokerVersion: version,
		Capabilities:  caps,
		Auth:          authSetup,
		Login:         p.Login,
		alive:         h.alive,
		logs:          h.readLogs,
		close:         h.close,
		ctl:           h,
	}
	if version == "" {
		t.Name = fmt.Sprintf("%s (container %s)", p.Name, image)
	}
	h.t = t
	if err := h.ready(ctx); err != nil {
		return nil, h.fail(fmt.Errorf("%s (%s) did not become ready: %w", p.Name, image, err))
	}
	return t, nil
}

// dockerClient connects to the Docker engine, or says in one line that
// there is none.
func dockerClient(ctx context.Context) (*testcontainers.DockerClient, error) {
	noDocker := noDockerError
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, noDocker(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx, client.PingOptions{}); err != nil {
		cli.Close()
		return nil, noDocker(err)
	}
	return cli, nil
}

func noDockerError(err error) error {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return fmt.Errorf("%w (%s); --target URL tests a running broker without Docker", ErrNoDocker, strings.TrimSpace(msg))
}

// findImage picks the first of the profile's images present here, and the
// broker version its labels carry.
func findImage(ctx context.Context, cli *testcontainers.DockerClient, p *Profile) (image, version string, err error) {
	candidates := p.images()
	for _, img := range candidates {
		info, err := cli.ImageInspect(ctx, img)
		if errdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", "", fmt.Errorf("inspecting image %s: %w", img, err)
		}
		if info.Config != nil {
			for _, l := range []string{"org.mqttspec.images.version", "org.opencontainers.image.version"} {
				if v := info.Config.Labels[l]; v != "" {
					return img, v, nil
				}
			}
		}
		if _, tag, ok := strings.Cut(path.Base(img), ":"); ok && tag != "latest" {
			version = tag
		}
		return img, version, nil
	}
	pull := candidates[len(candidates)-1]
	what := "image " + candidates[0]
	if len(candidates) > 1 {
		what = "neither image " + strings.Join(candidates, " nor ")
	}
	return "", "", fmt.Errorf("%w (%s): build it with make images (or docker pull %s where a registry is reachable; %s=image:tag picks another)",
		ErrImageMissing, what, pull, p.ImageEnv())
}

// renderFiles renders the profile's templates and the authentication
// material, and describes the authentication fixture (endpoints are filled
// once the ports are mapped).
func (p *Profile) renderFiles() ([]testcontainers.ContainerFile, *AuthSetup, error) {
	data := ProfileData{Name: p.Name, Ports: p.Ports}
	var files []testcontainers.ContainerFile
	add := func(dst string, content []byte, mode int64) {
		files = append(files, testcontainers.ContainerFile{Reader: strings.NewReader(string(content)), ContainerFilePath: dst, FileMode: mode})
	}
	var setup *AuthSetup
	if p.Auth.Kind == AuthMosquittoFiles {
		a := p.Auth
		scheme := a.Scheme
		if scheme == "" {
			scheme = auth.SchemePBKDF2
		}
		users := []Credential{refUser, refOther, refWriter}
		var pw []string
		for _, u := range users {
			h, err := auth.HashPassword([]byte(u.Password), scheme)
			if err != nil {
				return nil, nil, err
			}
			pw = append(pw, u.Username+":"+h)
		}
		ad := &ProfileAuthData{PasswordFile: a.PasswordFile, ACLFile: a.ACLFile, Users: users,
			Passwords: strings.Join(pw, "\n") + "\n", ACL: referenceACL + writerACL}
		add(a.PasswordFile, []byte(ad.Passwords), 0o644)
		add(a.ACLFile, []byte(ad.ACL), 0o644)
		setup = &AuthSetup{
			Users: users, EnhancedAuth: a.EnhancedAuth,
			ACL: &ACLSetup{User: refUser, Prefix: "mqttspec/acl/", DeniedTopic: "mqttspec/acl/denied",
				ReadOnlyTopic: "mqttspec/acl-readonly", Writer: &refWriter},
		}
		if a.TLSPort != "" {
			// The server certificate covers 127.0.0.1, where the port is published.
			set, err := certgen.NewSet(nil, refUser.Username)
			if err != nil {
				return nil, nil, err
			}
			keyPEM, err := certgen.KeyPEM(set.Server)
			if err != nil {
				return nil, nil, err
			}
			td := &ProfileTLSData{CAFile: path.Join(a.TLSDir, "ca.crt"), CertFile: path.Join(a.TLSDir, "server.crt"),
				KeyFile: path.Join(a.TLSDir, "server.key")}
			add(td.CAFile, set.CA.CertPEM(), 0o644)
			add(td.CertFile, certgen.CertPEM(set.Server), 0o644)
			// Readable by the broker's own user after it drops root (throwaway material).
			add(td.KeyFile, keyPEM, 0o644)
			ad.TLS = td
			setup.CertEndpoint = &Endpoint{TLS: set.CA.ClientConfig("127.0.0.1", set.Clients[refUser.Username])}
			setup.CertUser = refUser.Username
			setup.NoCertTLS = set.CA.ClientConfig("127.0.0.1")
		}
		data.Auth = ad
	}
	for _, f := range p.Files {
		content, err := p.render(f, data)
		if err != nil {
			return nil, nil, err
		}
		mode, _ := f.mode()
		add(f.Path, content, mode)
	}
	return files, setup, nil
}

func sortedPortNames(ports map[string]int) []string {
	names := make([]string, 0, len(ports))
	for n := range ports {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// containerHandle is a running container behind a Target.
type containerHandle struct {
	profile *Profile
	image   string
	timeout time.Duration
	c       *testcontainers.DockerContainer
	t       *Target

	mu       sync.Mutex
	lastLogs string // kept for after the container is gone
	removed  atomic.Bool

	closeOnce sync.Once
	closeErr  error
}

var errRemoved = errors.New("the container was removed")

// refresh re-reads the mapped ports into the Target's endpoints.
func (h *containerHandle) refresh(ctx context.Context) error {
	mapped := func(name string) (string, error) {
		port, err := h.c.MappedPort(ctx, fmt.Sprintf("%d/tcp", h.profile.Ports[name]))
		if err != nil {
			return "", fmt.Errorf("port %s: %w", name, err)
		}
		return fmt.Sprintf("127.0.0.1:%d", port.Num()), nil
	}
	addr, err := mapped("mqtt")
	if err != nil {
		return err
	}
	h.t.Endpoint = Endpoint{URL: "tcp://" + addr}
	if _, ok := h.profile.Ports["ws"]; ok {
		wsAddr, err := mapped("ws")
		if err != nil {
			return err
		}
		path := h.profile.WebSocketPath
		if path == "" {
			path = "/mqtt"
		}
		h.t.WebSocket = &Endpoint{URL: "ws://" + wsAddr + path}
	}
	if a := h.t.Auth; a != nil {
		if addr, err = mapped(h.profile.Auth.Port); err != nil {
			return err
		}
		a.Endpoint = Endpoint{URL: "tcp://" + addr}
		if a.CertEndpoint != nil {
			if addr, err = mapped(h.profile.Auth.TLSPort); err != nil {
				return err
			}
			a.CertEndpoint.URL = "ssl://" + addr
		}
	}
	return nil
}

// ready reads the ports and waits until the broker answers a CONNECT (the
// published port accepts connections before the broker listens).
func (h *containerHandle) ready(ctx context.Context) error {
	if err := h.refresh(ctx); err != nil {
		return err
	}
	deadline := time.Now().Add(h.timeout)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := Probe(pctx, h.t.Endpoint)
		cancel()
		if err == nil {
			return nil
		}
		if serr := h.state(ctx); serr != nil {
			return serr
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no CONNACK on %s within %s: %w", h.t.Endpoint.URL, h.timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// state is nil while the container runs.
func (h *containerHandle) state(ctx context.Context) error {
	st, err := h.c.State(ctx)
	if err != nil {
		return fmt.Errorf("container state: %w", err)
	}
	switch {
	case st.Paused:
		return errors.New("the container is paused")
	case !st.Running:
		return fmt.Errorf("the container is %s (exit code %d)", st.Status, st.ExitCode)
	}
	return nil
}

func (h *containerHandle) alive(ctx context.Context) error {
	if err := h.state(ctx); err != nil {
		return err
	}
	return Probe(ctx, h.t.Endpoint)
}

// readLogs returns the container's output (standard output and error), at
// most the last maxContainerLogs bytes.
func (h *containerHandle) readLogs(ctx context.Context) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.removed.Load() {
		return h.lastLogs, nil
	}
	rc, err := h.c.Logs(ctx)
	if err != nil {
		if h.lastLogs != "" {
			return h.lastLogs, nil
		}
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if over := len(b) - maxContainerLogs; over > 0 {
		b = append([]byte("[earlier logs cut]\n"), b[over:]...)
	}
	h.lastLogs = string(b)
	return h.lastLogs, err
}

// fail adds the container's logs to err and removes the container.
func (h *containerHandle) fail(err error) error {
	if h.c == nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if logs, lerr := h.readLogs(ctx); lerr == nil && strings.TrimSpace(logs) != "" {
		err = fmt.Errorf("%w\ncontainer logs:\n%s", err, strings.TrimRight(logs, "\n"))
	}
	if terr := h.terminate(ctx); terr != nil {
		err = fmt.Errorf("%w\nremoving the container: %v", err, terr)
	}
	return err
}

func (h *containerHandle) terminate(ctx context.Context) error {
	h.closeOnce.Do(func() {
		h.readLogs(ctx) // keep them for reports written after Close
		h.closeErr = h.c.Terminate(ctx)
		h.removed.Store(true)
	})
	return h.closeErr
}

func (h *containerHandle) close(ctx context.Context) error {
	// Terminate needs time to stop the broker; a caller's short deadline
	// must not leave the container behind.
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) < 15*time.Second {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
	}
	return h.terminate(ctx)
}

func (h *containerHandle) stop(ctx context.Context) error {
	if h.removed.Load() {
		return errRemoved
	}
	return h.c.Stop(ctx, nil)
}

func (h *containerHandle) start(ctx context.Context) error {
	if h.removed.Load() {
		return errRemoved
	}
	if err := h.c.Start(ctx); err != nil {
		return err
	}
	return h.ready(ctx)
}

func (h *containerHandle) pause(ctx context.Context, pause bool) error {
	if h.removed.Load() {
		return errRemoved
	}
	cli, err := dockerClient(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	if pause {
		_, err = cli.ContainerPause(ctx, h.c.GetContainerID(), client.ContainerPauseOptions{})
	} else {
		_, err = cli.ContainerUnpause(ctx, h.c.GetContainerID(), client.ContainerUnpauseOptions{})
	}
	return err
}

// ContainerID is the Docker container behind the target ("" for other
// targets, or once it is removed).
func (t *Target) ContainerID() string {
	if t.ctl == nil || t.ctl.removed.Load() {
		return ""
	}
	return t.ctl.c.GetContainerID()
}

// Stop stops a container target (its state is kept; Start resumes it).
// Other targets: errors.ErrUnsupported.
func (t *Target) Stop(ctx context.Context) error {
	if t.ctl == nil {
		return errors.ErrUnsupported
	}
	return t.ctl.stop(ctx)
}

// Start starts a stopped container target again and waits until it
// answers; its endpoints change (new mapped ports).
func (t *Target) Start(ctx context.Context) error {
	if t.ctl == nil {
		return errors.ErrUnsupported
	}
	return t.ctl.start(ctx)
}

// Restart stops and starts a container target; its endpoints change.
func (t *Target) Restart(ctx context.Context) error {
	if t.ctl == nil {
		return errors.ErrUnsupported
	}
	if err := t.ctl.stop(ctx); err != nil {
		return err
	}
	return t.ctl.start(ctx)
}

// Pause freezes a container target's processes (connections stay open
// and go silent); Unpause resumes them.
func (t *Target) Pause(ctx context.Context) error {
	if t.ctl == nil {
		return errors.ErrUnsupported
	}
	return t.ctl.pause(ctx, true)
}

// Unpause resumes a paused container target.
func (t *Target) Unpause(ctx context.Context) error {
	if t.ctl == nil {
		return errors.ErrUnsupported
	}
	return t.ctl.pause(ctx, false)
}
