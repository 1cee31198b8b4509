package reports

import (
	"encoding/json"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

var t0 = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// catalogue is a stand-in for specs/catalogue: statement -> level.
var catalogue = map[string]string{
	"MQTT-3.3.1-4":  "MUST",
	"MQTT-3.1.0-1":  "MUST",
	"MQTT-3.3.1-5":  "MUST NOT",
	"MQTT-4.7.3-1":  "SHOULD",
	"MQTT-4.7.3-2":  "SHOULD NOT",
	"MQTT-3.1.4-5":  "may",
	"MQTT-3.2.2-15": "OPTIONAL",
	"MQTT-9.9.9-9":  "", // known ID, level unknown
}

func levelOf(version, id string) string {
	if id == "MQTT-3.1.2-24" { // a statement whose level differs per version
		if version == MQTT50 {
			return "MAY"
		}
		return "MUST"
	}
	return catalogue[id]
}

// entry builds a report entry the way AddReportEntry does in-process.
func entry(name string, value any) types.ReportEntry {
	return types.ReportEntry{Name: name, Value: types.WrapEntryValue(value), Time: t0}
}

// itReport builds the SpecReport of an It in container area with the given
// labels on the It.
func itReport(area, text string, state types.SpecState, labels ...string) types.SpecReport {
	sr := types.SpecReport{
		LeafNodeType:     types.NodeTypeIt,
		LeafNodeText:     text,
		LeafNodeLabels:   labels,
		LeafNodeLocation: types.CodeLocation{FileName: "/src/specs/" + area + "_test.go", LineNumber: 10},
		State:            state,
		StartTime:        t0,
		EndTime:          t0.Add(25 * time.Millisecond),
		RunTime:          25 * time.Millisecond,
		NumAttempts:      1,
	}
	if area != "" {
		sr.ContainerHierarchyTexts = []string{area}
		sr.ContainerHierarchyLabels = [][]string{{}}
		sr.ContainerHierarchyLocations = []types.CodeLocation{{FileName: "/src/specs/" + area + "_test.go", LineNumber: 5}}
	}
	return sr
}

func withFailure(sr types.SpecReport, msg string) types.SpecReport {
	sr.Failure = types.Failure{
		Message:            msg,
		Location:           types.CodeLocation{FileName: "/src/specs/publish_test.go", LineNumber: 42},
		FailureNodeContext: types.FailureNodeIsLeafNode,
		FailureNodeType:    types.NodeTypeIt,
	}
	return sr
}

func traceJSON(entries ...TraceEntry) string {
	b, err := json.Marshal(entries)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// sampleReport is a small but complete Ginkgo run: every verdict, both
// versions, evidence, traces, a failed BeforeSuite-like node and an
// attempted injection in a spec name.
func sampleReport() types.Report {
	failing := withFailure(itReport("PUBLISH", "with QoS 3 closes the connection", types.SpecStateFailed, "MQTT-3.3.1-4", LabelMQTT50),
		"Expected the connection to be closed\nbut it stayed open")
	failing.ReportEntries = types.ReportEntries{
		entry(EntryRequirement, "A PUBLISH with both QoS bits set is malformed; the server closes the connection."),
		entry(EntryExpected, "connection closed (or DISCONNECT 0x81)"),
		entry(EntryObserved, "PUBACK received; connection open"),
		entry(EntryTrace, traceJSON(
			TraceEntry{At: t0.Add(3 * time.Millisecond), Dir: DirRecv, Client: "c1", Hex: "40020001", Summary: "PUBACK id=1"},
			TraceEntry{At: t0, Dir: DirSend, Client: "c1", Hex: "36070003612f62000178", Summary: "PUBLISH qos=3 topic=a/b"},
		)),
		entry(EntryLogs, "1741964966: Client c1 sent PUBLISH (q3)"),
		entry("unrelated", "ignored"),
	}

	shouldFail := withFailure(itReport("Keep alive", "closes idle connections promptly", types.SpecStateFailed, "MQTT-4.7.3-1", LabelMQTT311),
		"took 2.4 s")
	mayPass := itReport("CONNECT", "accepts a zero-length client ID", types.SpecStatePassed, "MQTT-3.1.4-5", LabelMQTT311)
	mayPass.ReportEntries = types.ReportEntries{entry(EntryNote, "assigned client ID auto-1")}

	suite := types.SpecReport{
		LeafNodeType:     types.NodeTypeSynchronizedBeforeSuite,
		LeafNodeLocation: types.CodeLocation{FileName: "/src/specs/suite_test.go", LineNumber: 20},
		State:            types.SpecStateFailed,
		RunTime:          time.Second,
		Failure: types.Failure{
			Message:            "could not start the broker",
			Location:           types.CodeLocation{FileName: "/src/specs/suite_test.go", LineNumber: 22},
			FailureNodeContext: types.FailureNodeAtTopLevel,
			FailureNodeType:    types.NodeTypeSynchronizedBeforeSuite,
		},
	}
	passedSuite := types.SpecReport{LeafNodeType: types.NodeTypeAfterSuite, State: types.SpecStatePassed}

	unsupported := itReport("Shared subscriptions", "delivers to one member", types.SpecStateSkipped, "MQTT-4.8.2-1", LabelMQTT50)
	unsupported.Failure = types.Failure{Message: "unsupported: CONNACK Shared Subscription Available = 0"}
	down := itReport("Retained messages", "keeps the last message", types.SpecStateSkipped, "MQTT-3.3.1-5", LabelMQTT311)
	down.Failure = types.Failure{Message: "broker-down: connection refused after 3 attempts"}

	return types.Report{
		SuiteDescription: "conformance",
		StartTime:        t0,
		EndTime:          t0.Add(3 * time.Second),
		SpecReports: types.SpecReports{
			itReport("CONNECT", "accepts a clean CONNECT", types.SpecStatePassed, "MQTT-3.1.0-1", LabelMQTT311),
			itReport("CONNECT", "accepts a clean CONNECT", types.SpecStatePassed, "MQTT-3.1.0-1", LabelMQTT50),
			failing,
			shouldFail,
			mayPass,
			unsupported,
			down,
			itReport("Topics", `<script>alert("x")</script> & friends`, types.SpecStatePending, LabelMQTT311),
			itReport("Topics", "matches wildcards", types.SpecStatePassed),
			suite,
			passedSuite,
			{LeafNodeType: types.NodeTypeReportAfterSuite, LeafNodeText: "write reports", State: types.SpecStatePassed},
		},
	}
}

func sampleConformance() *Conformance {
	return FromGinkgo(sampleReport(), AdapterOptions{
		Tool:         ToolInfo{Name: "mqttspec", Version: "v0.1.0"},
		Target:       TargetInfo{Name: "reference", URL: "tcp://127.0.0.1:1883", Profile: "reference", BrokerVersion: "dev"},
		Capabilities: map[string]any{"maximumQoS": float64(2), "retainAvailable": true, "assignedClientIdentifier": "auto"},
		Logs:         "broker started\nbroker <stopped>",
		LevelOf:      levelOf,
	})
}
