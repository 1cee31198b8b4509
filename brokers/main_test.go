package brokers

import (
	"os"
	"testing"
)

// TestMain gives the container tests the two settings this project always
// runs testcontainers with (the Makefile and .ci/run export them too), so
// that a plain `go test ./brokers/` works: no reaper, whose image cannot be
// pulled, and loopback as the host of mapped ports. testcontainers reads
// them once, at its first use, so they are set before any test runs.
func TestMain(m *testing.M) {
	for k, v := range map[string]string{
		"TESTCONTAINERS_RYUK_DISABLED": "true",
		"TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1",
	} {
		if _, set := os.LookupEnv(k); !set {
			os.Setenv(k, v)
		}
	}
	os.Exit(m.Run())
}
