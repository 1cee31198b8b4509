package main

import "runtime/debug"

// version is set at link time:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/mqttspec
//
// Left empty, versionString falls back to the module version recorded in the
// binary (set by `go install ...@v1.2.3`), then to "dev".
var version string

// versionString reports the version of this binary.
func versionString() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			return v
		}
	}
	return "dev"
}
