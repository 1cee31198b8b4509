package harness

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mqttspec/mqttspec/reference/packet"
	"github.com/mqttspec/mqttspec/specs/catalogue"
)

// VersionLabel is the Ginkgo label of the specs for one MQTT version
// ("mqtt-3.1.1", "mqtt-5.0"); reports read it back.
func VersionLabel(v packet.Version) string { return "mqtt-" + catalogueVersion(v) }

// VersionName is the catalogue's name of a version: "3.1.1" or "5.0".
func VersionName(v packet.Version) string { return catalogueVersion(v) }

func catalogueVersion(v packet.Version) string {
	if v == packet.V5 {
		return "5.0"
	}
	return "3.1.1"
}

// ForVersions builds body once per MQTT version the run tests, inside a
// container labelled with the version.
func ForVersions(body func(v packet.Version)) {
	for _, v := range Cfg().Versions {
		Context("MQTT "+v.String(), Label(VersionLabel(v)), func() { body(v) })
	}
}

// Only builds body for one version, if the run tests it.
func Only(v packet.Version, body func()) {
	for _, w := range Cfg().Versions {
		if w == v {
			Context("MQTT "+v.String(), Label(VersionLabel(v)), body)
		}
	}
}

// Statement labels a spec with the normative statements it checks for
// version v. An ID the catalogue lacks for that version stops the suite
// while the tree is built: a spec must never cite a statement that does not
// exist.
func Statement(v packet.Version, ids ...string) Labels {
	cat := catalogue.MustLoad()
	for _, id := range ids {
		if _, ok := cat.Lookup(catalogueVersion(v), id); !ok {
			panic(fmt.Sprintf("spec cites %s, which MQTT %s does not have (see specs/catalogue/data)", id, catalogueVersion(v)))
		}
	}
	return Labels(ids)
}

// S picks the statement ID of the version: S(v, "MQTT-3.1.2-13", "MQTT-3.1.2-11")
// gives the 3.1.1 ID for 3.1.1 and the 5.0 ID for 5.0, for rules the two
// specifications number differently.
func S(v packet.Version, v311, v5 string) string {
	if v == packet.V5 {
		return v5
	}
	return v311
}
