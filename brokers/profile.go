package brokers

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"
)

// Profile says how to run a broker in a container: the image, its command,
// the configuration files to render for each run, the ports, how to tell
// that it is ready, what it supports and how its users and ACL are set up.
// The built-in profiles are in brokers/profiles/*.yaml; a user's file has
// the same form (unknown keys are errors; relative paths are relative to
// the file):
//
//	name: mosquitto
//	image: eclipse-mosquitto:2.0.11         # the official image
//	local_image: mqttspec/mosquitto:2.0.11  # used instead when present (make images)
//	entrypoint: [...]                       # optional: replaces the image's
//	command: [...]                          # optional: replaces the image's
//	env: {KEY: value}
//	ports: {mqtt: 1883, auth: 1884, mqtts: 8883, ws: 8080}  # container ports by name
//	websocket_path: /mqtt                   # of the ws port (default /mqtt)
//	files:                                  # Go templates, rendered at start
//	  - path: /mosquitto/config/mosquitto.conf
//	    template: "listener {{.Ports.mqtt}}\n..."   # or source: file.tmpl
//	    mode: "0644"
//	auth:
//	  kind: mosquitto-files                 # none (default) | mosquitto-files
//	  port: auth                            # the listener that refuses anonymous clients
//	  password_file: /mosquitto/config/passwd
//	  acl_file: /mosquitto/config/acl
//	  tls_port: mqtts                       # optional: requires client certificates
//	  tls_dir: /mosquitto/config/certs      # ca.crt, server.crt, server.key go here
//	  enhanced_auth: [SCRAM-SHA-256]        # optional: needs scheme scram-sha-256
//	wait: {port: mqtt, log: " running", timeout: 30s}
//	capabilities: {versions: ["3.1.1", "5"], maximum_qos: 2, ...}   # as in target files
//	login: {username: mqttspec, password: secret}  # optional: for brokers without anonymous access
//
// The templates see ProfileData. The image can also be overridden with the
// environment variable MQTTSPEC_IMAGE_<NAME> (NAME upper-cased, other
// characters than letters and digits as '_'), e.g. MQTTSPEC_IMAGE_MOSQUITTO.
type Profile struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Image       string            `yaml:"image"`
	LocalImage  string            `yaml:"local_image"`
	Entrypoint  []string          `yaml:"entrypoint"`
	Command     []string          `yaml:"command"`
	Env         map[string]string `yaml:"env"`
	Ports       map[string]int    `yaml:"ports"`
	// WebSocketPath is the HTTP path of the "ws" port's MQTT-over-WebSocket
	// listener (default /mqtt).
	WebSocketPath string         `yaml:"websocket_path"`
	Files         []ProfileFile  `yaml:"files"`
	Auth          ProfileAuth    `yaml:"auth"`
	Wait          ProfileWait    `yaml:"wait"`
	Capabilities  CapabilityFile `yaml:"capabilities"`
	// Login is the user name and password every spec client sends on the
	// mqtt and ws ports, for a broker that admits no anonymous client.
	Login *Credential `yaml:"login"`

	// Source is where the profile came from: "built-in" or the file path.
	Source string `yaml:"-"`
	dir    string // resolves relative file sources
}

// ProfileFile is a file rendered from a Go template and copied into the
// container before it starts.
type ProfileFile struct {
	Path     string `yaml:"path"`     // in the container
	Template string `yaml:"template"` // inline template text
	Source   string `yaml:"source"`   // or a template file (relative to the profile)
	Mode     string `yaml:"mode"`     // octal, default 0644
}

// ProfileAuth says how the authentication fixture is set up.
type ProfileAuth struct {
	// Kind is "none" (default: the authentication specs are unsupported)
	// or "mosquitto-files": the launcher writes a Mosquitto password file
	// (PBKDF2-SHA512 hashes) and ACL for the specs' users, and the
	// profile's config template points a listener refusing anonymous
	// clients at them.
	Kind         string `yaml:"kind"`
	Port         string `yaml:"port"`          // name of that listener's port in ports
	PasswordFile string `yaml:"password_file"` // container path
	ACLFile      string `yaml:"acl_file"`      // container path
	// Scheme of the password hashes: sha512-pbkdf2 (default) or sha512,
	// which Mosquitto 2.0 reads, or scram-sha-256 (the reference broker's
	// SCRAM-SHA-256 entries, which serve a CONNECT password too).
	Scheme string `yaml:"scheme"`
	// EnhancedAuth lists the MQTT 5 enhanced authentication methods the
	// listener at Port offers every user; the launcher can set up only
	// SCRAM-SHA-256, from scram-sha-256 password entries.
	EnhancedAuth []string `yaml:"enhanced_auth"`
	// TLSPort, when set, names a listener requiring client certificates;
	// a CA, server certificate and key are generated for each run and
	// copied to TLSDir.
	TLSPort string `yaml:"tls_port"`
	TLSDir  string `yaml:"tls_dir"`
}

// ProfileWait says when the container is ready: its port listens, the log
// line (a regular expression) has appeared, and the broker answers a
// CONNECT — within Timeout (default 60s).
type ProfileWait struct {
	Port    string `yaml:"port"` // a name in ports, default mqtt
	Log     string `yaml:"log"`
	Timeout string `yaml:"timeout"`
}

// ProfileData is what the profile's templates see.
type ProfileData struct {
	Name  string
	Ports map[string]int // container ports by name
	// Auth is nil when the profile sets up no authentication.
	Auth *ProfileAuthData
}

// ProfileAuthData are the per-run authentication files, for templates.
type ProfileAuthData struct {
	PasswordFile, ACLFile string // container paths
	Users                 []Credential
	// Passwords is the password file's content, ACL the ACL's (Mosquitto
	// formats), for profiles that embed them in their own config.
	Passwords, ACL string
	// TLS is nil without a tls_port.
	TLS *ProfileTLSData
}

// ProfileTLSData are container paths of the generated TLS material.
type ProfileTLSData struct{ CAFile, CertFile, KeyFile string }

// Authentication kinds.
const (
	AuthNone           = "none"
	AuthMosquittoFiles = "mosquitto-files"
)

//go:embed profiles/*.yaml
var builtinProfiles embed.FS

// BuiltinProfiles lists the names of the built-in profiles.
func BuiltinProfiles() []string {
	entries, _ := fs.ReadDir(builtinProfiles, "profiles")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// LoadProfile returns a built-in profile by name ("mosquitto") or reads a
// profile file (a path, or any name ending in .yaml or .yml).
func LoadProfile(nameOrPath string) (*Profile, error) {
	isFile := strings.HasSuffix(nameOrPath, ".yaml") || strings.HasSuffix(nameOrPath, ".yml") ||
		strings.ContainsRune(nameOrPath, os.PathSeparator) || strings.ContainsRune(nameOrPath, '/')
	if !isFile {
		data, err := builtinProfiles.ReadFile(path.Join("profiles", nameOrPath+".yaml"))
		if err != nil {
			return nil, fmt.Errorf("broker %q: no such built-in profile (built-in: %s; or give a profile .yaml file)",
				nameOrPath, strings.Join(BuiltinProfiles(), ", "))
		}
		p, err := ParseProfile(bytes.NewReader(data), "")
		if err != nil {
			return nil, fmt.Errorf("built-in profile %s: %w", nameOrPath, err)
		}
		p.Source = "built-in"
		return p, nil
	}
	f, err := os.Open(nameOrPath)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	defer f.Close()
	p, err := ParseProfile(f, filepath.Dir(nameOrPath))
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", nameOrPath, err)
	}
	p.Source = nameOrPath
	return p, nil
}

// ParseProfile reads a profile; dir resolves relative template sources.
func ParseProfile(r io.Reader, dir string) (*Profile, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty profile")
		}
		return nil, err
	}
	p.dir = dir
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *Profile) validate() error {
	if p.Name == "" {
		return errors.New("name is required")
	}
	if p.Login != nil && p.Login.Username == "" {
		return errors.New("login.username is required (login: {username: u, password: p})")
	}
	if p.Image == "" && p.LocalImage == "" {
		return errors.New("image is required")
	}
	if _, ok := p.Ports["mqtt"]; !ok {
		return errors.New("ports.mqtt is required (the container port of the anonymous MQTT listener)")
	}
	for name, port := range p.Ports {
		if port <= 0 || port > 65535 {
			return fmt.Errorf("ports.%s: %d is not a port", name, port)
		}
	}
	for i, f := range p.Files {
		if !path.IsAbs(f.Path) {
			return fmt.Errorf("files[%d]: path %q must be absolute (in the container)", i, f.Path)
		}
		if (f.Template == "") == (f.Source == "") {
			return fmt.Errorf("files[%d] (%s): give either template or source", i, f.Path)
		}
		if _, err := f.mode(); err != nil {
			return fmt.Errorf("files[%d] (%s): %w", i, f.Path, err)
		}
	}
	switch p.Auth.Kind {
	case "", AuthNone:
	case AuthMosquittoFiles:
		a := p.Auth
		if a.Port == "" || a.PasswordFile == "" || a.ACLFile == "" {
			return errors.New("auth: mosquitto-files needs port, password_file and acl_file")
		}
		if _, ok := p.Ports[a.Port]; !ok {
			return fmt.Errorf("auth.port %q is not in ports", a.Port)
		}
		if a.TLSPort != "" {
			if _, ok := p.Ports[a.TLSPort]; !ok {
				return fmt.Errorf("auth.tls_port %q is not in ports", a.TLSPort)
			}
			if !path.IsAbs(a.TLSDir) {
				return errors.New("auth.tls_port needs tls_dir, an absolute container path")
			}
		}
		switch a.Scheme {
		case "", "sha512-pbkdf2", "sha512", "scram-sha-256":
		default:
			return fmt.Errorf("auth.scheme %q: want sha512-pbkdf2 or sha512 (what Mosquitto 2.0 reads), or scram-sha-256", a.Scheme)
		}
		for _, m := range a.EnhancedAuth {
			if m != "SCRAM-SHA-256" || a.Scheme != "scram-sha-256" {
				return fmt.Errorf("auth.enhanced_auth %q: the launcher sets up only SCRAM-SHA-256, with scheme scram-sha-256", m)
			}
		}
	default:
		return fmt.Errorf("auth.kind %q: want none or mosquitto-files", p.Auth.Kind)
	}
	if w := p.Wait.Port; w != "" {
		if _, ok := p.Ports[w]; !ok {
			return fmt.Errorf("wait.port %q is not in ports", w)
		}
	}
	if _, err := p.waitTimeout(); err != nil {
		return err
	}
	if _, err := p.capabilities(); err != nil {
		return fmt.Errorf("capabilities: %w", err)
	}
	// Parse the templates now, so that a mistake shows before Docker is asked.
	for _, f := range p.Files {
		if _, err := p.template(f); err != nil {
			return err
		}
	}
	return nil
}

func (f ProfileFile) mode() (int64, error) {
	if f.Mode == "" {
		return 0o644, nil
	}
	m, err := strconv.ParseUint(strings.TrimPrefix(f.Mode, "0o"), 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("mode %q: want octal such as \"0644\"", f.Mode)
	}
	return int64(m), nil
}

func (p *Profile) template(f ProfileFile) (*template.Template, error) {
	text := f.Template
	if f.Source != "" {
		src := f.Source
		if !filepath.IsAbs(src) && p.dir != "" {
			src = filepath.Join(p.dir, src)
		}
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("files (%s): %w", f.Path, err)
		}
		text = string(b)
	}
	t, err := template.New(f.Path).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("files (%s): %w", f.Path, err)
	}
	return t, nil
}

// render executes a file's template.
func (p *Profile) render(f ProfileFile, data ProfileData) ([]byte, error) {
	t, err := p.template(f)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("rendering %s: %w", f.Path, err)
	}
	return buf.Bytes(), nil
}

func (p *Profile) waitTimeout() (time.Duration, error) {
	if p.Wait.Timeout == "" {
		return 60 * time.Second, nil
	}
	d, err := time.ParseDuration(p.Wait.Timeout)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("wait.timeout %q: want a duration such as 30s", p.Wait.Timeout)
	}
	return d, nil
}

// capabilities are the declared ones: complete unless the profile says
// otherwise.
func (p *Profile) capabilities() (Capabilities, error) {
	c := FullCapabilities()
	err := applyCapabilities(&c, &p.Capabilities)
	return c, err
}

// ImageEnv is the environment variable that overrides the profile's image.
func (p *Profile) ImageEnv() string {
	var b strings.Builder
	b.WriteString("MQTTSPEC_IMAGE_")
	for _, r := range strings.ToUpper(p.Name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// images are the images to try, in order: the environment override alone
// if set, else the local image, then the official one.
func (p *Profile) images() []string {
	if v := os.Getenv(p.ImageEnv()); v != "" {
		return []string{v}
	}
	var out []string
	for _, img := range []string{p.LocalImage, p.Image} {
		if img != "" && !slices.Contains(out, img) {
			out = append(out, img)
		}
	}
	return out
}
