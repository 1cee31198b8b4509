package simulator

import (
	"strings"
	"testing"
	"time"
)

func TestBuiltinHome(t *testing.T) {
	s, err := BuiltinScenario("home")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "home" || s.MQTT != "3.1.1" || s.Duration.D() != 30*time.Second {
		t.Errorf("name %q mqtt %q duration %s", s.Name, s.MQTT, s.Duration.D())
	}
	want := []string{"Küche", "Wohnzimmer", "Schlafzimmer", "Bad", "Flur"}
	if strings.Join(s.Rooms, ",") != strings.Join(want, ",") {
		t.Errorf("rooms %v, want %v", s.Rooms, want)
	}
	f, err := NewFleet(s, 0, Shard{})
	if err != nil {
		t.Fatal(err)
	}
	if f.PerHome() != 28 || f.Total != 280 || f.Homes != 10 {
		t.Errorf("per home %d, total %d, homes %d; want 28, 280, 10", f.PerHome(), f.Total, f.Homes)
	}
	d := f.Device(0)
	if got := d.Topic(); got != "Long-Home/Küche/Temperatur" {
		t.Errorf("device 0 topic %q", got)
	}
	if got := f.HomeName(1); got != "home-0002" {
		t.Errorf("home 1 is named %q, want home-0002", got)
	}
	if got := f.ClientID(&d); got != "sim-0" {
		t.Errorf("client id %q", got)
	}
	classes := map[string]int{}
	for i := 0; i < f.PerHome(); i++ {
		classes[f.Device(i).Class]++
	}
	for class, n := range map[string]int{"Temperatur": 5, "Luftfeuchtigkeit": 5, "Bewegung": 3, "Tür": 3, "Strom": 2, "Schalter": 5, "Licht": 5} {
		if classes[class] != n {
			t.Errorf("%d %s per home, want %d", classes[class], class, n)
		}
	}
	if _, err := BuiltinScenario("office"); err == nil || !strings.Contains(err.Error(), "built-in: home") {
		t.Errorf("unknown built-in: %v", err)
	}
}

// minimal is a valid scenario the bad cases below each break once.
const minimal = `
name: t
duration: 1s
homes: {count: 2}
rooms: [Küche, Bad]
devices:
  - class: Temperatur
    topic: "{home}/{room}/Temperatur"
    interval: 1s
    model: {kind: random_walk, min: 0, max: 10, step: 1}
observers:
  - filters: ["{home}/#"]
`

func TestParseGood(t *testing.T) {
	s, err := ParseScenario(strings.NewReader(minimal), "test")
	if err != nil {
		t.Fatal(err)
	}
	if !*s.Connection.CleanSession || s.Connection.KeepAlive.D() != time.Minute || s.Devices[0].Count != 1 {
		t.Errorf("defaults not applied: %+v", s.Connection)
	}
	full := minimal + `
mqtt: "5"
connection:
  client_id: "{home}-{room}-{class}-{k}-{device:06}"
  username: "u{device}"
  password: "p"
  clean_session: false
  session_expiry: 1h
  keep_alive: 30s
  ramp_rate: 100
  reconnect: {initial: 50ms, max: 5s, multiplier: 1.5}
`
	s, err = ParseScenario(strings.NewReader(full), "test")
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFleet(s, 0, Shard{})
	if err != nil {
		t.Fatal(err)
	}
	d := f.Device(3)
	if got := f.ClientID(&d); got != "home-0002-Bad-Temperatur-1-000003" {
		t.Errorf("client id %q", got)
	}
}

func TestParseBad(t *testing.T) {
	cases := []struct{ name, old, new, want string }{
		{"unknown key", "name: t", "name: t\ncolour: blue", "field colour not found"},
		{"bad duration", "duration: 1s", "duration: soon", `"soon" is not a duration`},
		{"unknown placeholder", "{home}/{room}/Temperatur", "{home}/{floor}/Temperatur", "unknown placeholder {floor}"},
		{"unclosed placeholder", "{home}/{room}/Temperatur", "{home}/{room/Temperatur", "is not closed"},
		{"wildcard topic", "{home}/{room}/Temperatur", "{home}/+/Temperatur", "contains a wildcard"},
		{"qos 3", "interval: 1s", "interval: 1s\n    qos: {3: 1}", "qos level 3 does not exist"},
		{"jitter too large", "interval: 1s", "interval: 1s\n    jitter: 2s", "jitter 2s must be smaller"},
		{"unknown model", "kind: random_walk", "kind: brownian", `unknown kind "brownian"`},
		{"walk bounds", "min: 0, max: 10", "min: 10, max: 0", "min < max"},
		{"unknown room", "interval: 1s", "interval: 1s\n    rooms: [Garage]", `room "Garage" is not in rooms`},
		{"no interval", "interval: 1s", "interval: 0s", "interval is required"},
		{"negative messages", "interval: 1s", "interval: 1s\n    messages: -1", "messages -1 must be positive"},
		{"no rooms", "rooms: [Küche, Bad]", "rooms: []", "at least one room"},
		{"room twice", "rooms: [Küche, Bad]", "rooms: [Bad, Bad]", "listed twice"},
		{"mqtt 3.1", "name: t", "name: t\nmqtt: \"3.1\"", "not supported"},
		{"client id not unique", "name: t", "name: t\nconnection: {client_id: \"{home}\"}", "must contain {device}"},
		{"session expiry on 3.1.1", "name: t", "name: t\nconnection: {session_expiry: 1h}", "needs mqtt: 5"},
		{"bad filter", `["{home}/#"]`, `["{home}/#/x"]`, "observers[0]: filter"},
		{"observer placeholder", `["{home}/#"]`, `["{room}/#"]`, "unknown placeholder {room}"},
		{"width on text", "{home}/{room}/Temperatur", "{home:04}/Temperatur", "width"},
		{"class username placeholder", "interval: 1s", "interval: 1s\n    username: \"{floor}\"", "username \"{floor}\": unknown placeholder {floor}"},
		{"connection password unclosed", "name: t", "name: t\nconnection: {password: \"{device\"}", "connection.password"},
		{"second document", "name: t", "name: t\n---\nname: u", "more than one YAML document"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(minimal, c.old, c.new, 1)
			if src == minimal {
				t.Fatalf("case does not change the scenario (%q not found)", c.old)
			}
			_, err := ParseScenario(strings.NewReader(src), "bad.yaml")
			if err == nil {
				t.Fatalf("accepted:\n%s", src)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.yaml") {
				t.Errorf("error %q does not name the file and %q", err, c.want)
			}
		})
	}
	if _, err := ParseScenario(strings.NewReader(""), "empty.yaml"); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty input: %v", err)
	}
}
