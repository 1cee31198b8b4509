#!/usr/bin/env bash
# Cross-checks the simulator's accounting with an independent subscriber: Debian's mosquitto_sub
# subscribes to everything on a fresh reference broker while `mqttspec sim` runs its fleet, and
# the number of messages of that run it saw must equal what the simulator says its observers
# received. Usage: simulator/crosscheck.sh [path/to/mqttspec]   (env: NODES=2000 DURATION=30s PORT=18883)
# Needs mosquitto_sub and mosquitto_pub (Debian: mosquitto-clients). Everything stays on 127.0.0.1.
set -euo pipefail

bin=${1:-bin/mqttspec}
nodes=${NODES:-2000}
duration=${DURATION:-30s}
port=${PORT:-18883}
for tool in mosquitto_sub mosquitto_pub python3; do
	command -v "$tool" >/dev/null || { echo "crosscheck: $tool is missing (apt-get install mosquitto-clients python3)" >&2; exit 2; }
done

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# wait_for FILE TEXT: poll (bounded: 30 s) until TEXT is in FILE.
wait_for() {
	for _ in $(seq 300); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "crosscheck: gave up waiting for '$2' in $1" >&2
	return 1
}

"$bin" broker --listen "127.0.0.1:$port" --log-level warn >"$work/broker.log" 2>&1 &
pids+=($!)
# The broker is up once a publish goes through.
for i in $(seq 100); do
	mosquitto_pub -h 127.0.0.1 -p "$port" -t crosscheck/up -m up -q 1 2>/dev/null && break
	[ "$i" -lt 100 ] || { echo "crosscheck: the broker did not start" >&2; cat "$work/broker.log" >&2; exit 1; }
	sleep 0.1
done
# The subscriber, at QoS 2 on every topic; it is subscribed once a marker published after it
# started comes back.
mosquitto_sub -h 127.0.0.1 -p "$port" -i mqttspec-crosscheck -t '#' -q 2 >"$work/sub.txt" 2>"$work/sub.err" &
pids+=($!)
for _ in $(seq 100); do
	mosquitto_pub -h 127.0.0.1 -p "$port" -t crosscheck/start -m crosscheck-start -q 1
	grep -q crosscheck-start "$work/sub.txt" && break
	sleep 0.1
done
wait_for "$work/sub.txt" crosscheck-start

"$bin" sim --target "tcp://127.0.0.1:$port" --nodes "$nodes" --duration "$duration" --json "$work/sim.json" --progress plain

# The simulator ends once its observers have every message; a marker published now reaches the
# subscriber after everything the broker queued for it before.
mosquitto_pub -h 127.0.0.1 -p "$port" -t crosscheck/end -m crosscheck-end -q 2
wait_for "$work/sub.txt" crosscheck-end

python3 - "$work/sim.json" "$work/sub.txt" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))
run = res["run"]
received = sum(a["received"] for a in res["accounting"])
sent = sum(a["sent"] for a in res["accounting"])
seen = sum(1 for line in open(sys.argv[2], encoding="utf-8", errors="replace") if '"run":"%s"' % run in line)
print(f"crosscheck: run {run}: the simulator sent {sent} and its observers received {received}; mosquitto_sub saw {seen}")
if seen != received or received == 0:
    sys.exit("crosscheck: the counts differ")
PY
