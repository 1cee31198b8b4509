# mqttspec: build, test, fuzz, bench. `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

# Containers: no image can be pulled here (so no reaper), and testcontainers must
# dial loopback, never a gateway address. See DESIGN.md, "Containers without a registry".
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1

GO       ?= go
BIN      := bin/mqttspec
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
FUZZTIME ?= 20s

# Native fuzz targets, as ./pkg:FuzzName (space-separated). Left empty, `make fuzz`
# discovers them: the main module's packages whose test files declare `func Fuzz...`,
# confirmed by `go test -list '^Fuzz'`. Nested modules (bench/compare) are not included.
FUZZ_TARGETS ?=

.PHONY: help build test fmt-check vet test-short bench fuzz fuzz-list clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-11s %s\n", $$1, $$2}'

build: ## build bin/mqttspec
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/mqttspec

test: fmt-check vet ## gofmt check, go vet, all tests with the race detector
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

fmt-check: ## fail if any Go file is not gofmt-formatted
	@files=$$(gofmt -l .); \
	if [ -n "$$files" ]; then echo "gofmt: these files need formatting (gofmt -w):"; echo "$$files"; exit 1; fi

vet: ## go vet
	$(GO) vet ./...

test-short: ## quick tests (go test -short)
	$(GO) test -short ./...

bench: ## benchmarks of reference/..., then the comparison module if present
	$(GO) test -run '^$$' -bench . -benchmem ./reference/...
	if [ -d bench/compare ]; then cd bench/compare && $(GO) test -run '^$$' -bench . -benchmem ./...; fi

fuzz-list: ## print the native fuzz targets as ./pkg:FuzzName
	@mod=$$($(GO) list -m); \
	pkgs=$$($(GO) list -f '{{.ImportPath}} {{.Dir}} {{join .TestGoFiles " "}} {{join .XTestGoFiles " "}}' ./... | \
		while read -r pkg dir files; do \
			if [ -n "$$files" ] && (cd "$$dir" && grep -qE '^func Fuzz[[:alnum:]_]*\(' $$files); then echo "$$pkg"; fi; \
		done); \
	if [ -n "$$pkgs" ]; then \
		$(GO) test -list '^Fuzz' $$pkgs | awk -v mod="$$mod" ' \
			/^Fuzz/ { names[n++] = $$1; next } \
			/^ok[ \t]/ { pkg = $$2; if (index(pkg, mod) == 1) pkg = "." substr(pkg, length(mod) + 1); \
				for (i = 0; i < n; i++) print pkg ":" names[i]; n = 0 }'; \
	fi

fuzz: ## run each native fuzz target for FUZZTIME (default 20s)
	@targets='$(FUZZ_TARGETS)'; \
	if [ -z "$$targets" ]; then targets=$$($(MAKE) --no-print-directory -s fuzz-list); fi; \
	if [ -z "$$targets" ]; then echo "fuzz: no native fuzz targets found"; exit 0; fi; \
	for t in $$targets; do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		corpus="$$($(GO) list -f '{{.Dir}}' "$$pkg")/testdata/fuzz/$$name"; \
		before=$$( { ls "$$corpus" 2>/dev/null || true; } | wc -l); \
		echo "--- fuzz $$pkg $$name for $(FUZZTIME)"; \
		if ! $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg" 2>&1 | tee /tmp/mqttspec-fuzz.log; then \
			after=$$( { ls "$$corpus" 2>/dev/null || true; } | wc -l); \
			if [ "$$after" -eq "$$before" ] && grep -q 'context deadline exceeded' /tmp/mqttspec-fuzz.log; then \
				echo "fuzz: $$name stopped with Go's fuzz-coordinator race at the -fuzztime deadline (go.dev/issue/75804, fixed in Go 1.27); no failing input was written: not a finding"; \
			else \
				echo "fuzz: $$name failed; the failing input is in $$corpus"; exit 1; \
			fi; \
		fi; \
	done

.PHONY: images
images: ## build the broker images locally (no registry needed)
	brokers/images/build.sh $(IMAGES)

.PHONY: test-containers
test-containers: images ## build the images, then the container tests of brokers/ (MQTTSPEC_REQUIRE_DOCKER=1: no skipping)
	MQTTSPEC_REQUIRE_DOCKER=1 $(GO) test -count=1 -run Container ./brokers/

clean: ## remove build output
	rm -rf bin

# The brokers the suite runs against in containers (CI), each with its
# checked-in expected verdicts: broker-name:file.
CONFORMANCE_BROKERS ?= reference-container:docs/results/reference-container.json \
	mosquitto:docs/results/mosquitto-2.0.11.json mochi:docs/results/mochi-2.7.9.json \
	nats:docs/results/nats-2.15.2.json rabbitmq:docs/results/rabbitmq-3.10.json

.PHONY: conformance-containers
conformance-containers: build ## the five-broker matrix (out/matrix.html); fails when a verdict differs from docs/results
	@mkdir -p out; rc=0; args=""; \
	for b in $(CONFORMANCE_BROKERS); do args="$$args --broker $${b%%:*}"; done; \
	bin/mqttspec matrix $$args --json-dir out --html-report out/matrix.html --json out/matrix.json || rc=1; \
	for b in $(CONFORMANCE_BROKERS); do name=$${b%%:*}; file=$${b#*:}; \
		echo "--- $$name: verdicts must match $$file"; \
		bin/mqttspec report check "out/$$name.json" --expect "$$file" || rc=1; \
		bin/mqttspec report render "out/$$name.json" --html-report "out/$$name.html" --junit-report "out/$$name.junit.xml" || rc=1; \
	done; exit $$rc

.PHONY: results
results: build ## re-run the suite against the container brokers and rewrite docs/results/*.json (notes kept)
	@mkdir -p out; \
	for b in $(CONFORMANCE_BROKERS); do name=$${b%%:*}; file=$${b#*:}; \
		echo "--- $$name: writing $$file"; rm -f "out/$$name.json"; \
		bin/mqttspec run --broker "$$name" --write-expect "$$file" --json-report "out/$$name.json" \
			--html-report "out/$$name.html" || test -s "out/$$name.json"; \
	done

.PHONY: test-browser
test-browser: ## the HTML report and the matrix in headless chromium (apt-get install -y chromium); screenshots in out/
	@mkdir -p out
	MQTTSPEC_SCREENSHOTS=$(CURDIR)/out $(GO) test -tags browser -count=1 -run Browser ./reports/

.PHONY: sim-crosscheck
sim-crosscheck: build ## 2000 simulated devices for 30 s; the count must equal Debian's mosquitto_sub's
	simulator/crosscheck.sh bin/mqttspec
