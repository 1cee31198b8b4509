#!/bin/bash -eu
# Builds mqttspec's native Go fuzz targets (go test -fuzz) as libFuzzer
# binaries for ClusterFuzzLite or OSS-Fuzz, each with a seed corpus converted
# from its testdata/fuzz directory. It runs inside the Go builder image (see
# Dockerfile): $SRC/mqttspec is the repository, $OUT receives the binaries and
# the NAME_seed_corpus.zip archives.
#
# Every target of `make fuzz-list` must have a build_target line below:
# .clusterfuzzlite/check-targets.sh compares the two lists (run it in CI).

cd "$SRC/mqttspec"

# compile_native_go_fuzzer links the targets against this stand-in for the
# testing package, which feeds libFuzzer's input to f.Fuzz's function.
go get github.com/AdamKorcz/go-118-fuzz-build/testing

module=github.com/mqttspec/mqttspec

# build_target DIR FUNC NAME builds the fuzz function FUNC of the package in
# DIR as $OUT/NAME and zips DIR/testdata/fuzz/FUNC, if it exists, into
# $OUT/NAME_seed_corpus.zip in the binary's input format (the go test corpus
# files are Go literals; libFuzzer wants raw bytes).
build_target() {
	local dir=$1 func=$2 name=$3
	compile_native_go_fuzzer "$module/$dir" "$func" "$name"
	if [ -d "$dir/testdata/fuzz/$func" ]; then
		go run .clusterfuzzlite/seedcorpus.go -o "$OUT/${name}_seed_corpus.zip" "$dir/testdata/fuzz/$func"
	fi
}

build_target reference/packet FuzzDecode fuzz_decode
build_target reference/packet FuzzRoundTrip fuzz_round_trip
build_target reference/packet FuzzMatchTopic fuzz_match_topic
build_target reference/broker FuzzBrokerConnection fuzz_broker_connection
