#!/usr/bin/env bash
# Checks .clusterfuzzlite/build.sh against the repository: it must build
# exactly the native fuzz targets `make fuzz-list` finds (so a new target is
# not forgotten), and every seed corpus it zips must convert. Exit 1 with the
# differences otherwise. Run from anywhere: .clusterfuzzlite/check-targets.sh
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(make --no-print-directory -s fuzz-list | sort)
have=$(awk '$1 == "build_target" { print "./" $2 ":" $3 }' .clusterfuzzlite/build.sh | sort)
if [ "$want" != "$have" ]; then
	echo "check-targets: .clusterfuzzlite/build.sh and make fuzz-list disagree" >&2
	echo "  only in make fuzz-list (add a build_target line):" >&2
	comm -23 <(echo "$want") <(echo "$have") | sed 's/^/    /' >&2
	echo "  only in build.sh (remove the line, or restore the target):" >&2
	comm -13 <(echo "$want") <(echo "$have") | sed 's/^/    /' >&2
	exit 1
fi
echo "check-targets: build.sh builds the $(echo "$want" | wc -l) targets of make fuzz-list"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '$1 == "build_target" { print $2, $3, $4 }' .clusterfuzzlite/build.sh | while read -r dir func name; do
	corpus="$dir/testdata/fuzz/$func"
	[ -d "$corpus" ] || continue
	go run .clusterfuzzlite/seedcorpus.go -o "$tmp/${name}_seed_corpus.zip" "$corpus"
	[ -s "$tmp/${name}_seed_corpus.zip" ] || { echo "check-targets: no seed corpus for $name" >&2; exit 1; }
done
