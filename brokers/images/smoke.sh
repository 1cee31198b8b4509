#!/usr/bin/env bash
# Smoke test of the images build.sh makes: start each one with its MQTT port published on
# loopback only, publish one message with Debian's mosquitto_pub and receive it with
# mosquitto_sub, for MQTT 3.1.1 and (where the broker has it) 5.0; then remove the container.
#
# Usage: brokers/images/smoke.sh [IMAGE...]   (reference mochi nats mosquitto rabbitmq; default all)
# Needs: docker, mosquitto-clients. Talks to 127.0.0.1 only.
set -euo pipefail

export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1

ALL=(reference mochi nats mosquitto rabbitmq)
declare -A TAG=(
	[reference]=mqttspec/reference:dev
	[mochi]=mqttspec/mochi:2.7.9
	[nats]=mqttspec/nats:2.15.2
	[mosquitto]=mqttspec/mosquitto:2.0.11
	[rabbitmq]=mqttspec/rabbitmq:3.10
)
# Protocol versions each broker must serve; the others are tried and must be refused.
declare -A VERSIONS=(
	[reference]="mqttv311 mqttv5"
	[mochi]="mqttv311 mqttv5"
	[nats]="mqttv311"
	[mosquitto]="mqttv311 mqttv5"
	[rabbitmq]="mqttv311"
)
# Extra container ports that must accept TCP connections (WebSocket listeners).
declare -A EXTRA_PORTS=([reference]=8080 [mochi]=8080)
READY_TIMEOUT=${SMOKE_READY_TIMEOUT:-120} # seconds; RabbitMQ needs ~10-30 s to boot

for tool in docker mosquitto_pub mosquitto_sub; do
	command -v "$tool" >/dev/null || { echo "smoke.sh: $tool is missing (apt-get install mosquitto-clients)" >&2; exit 1; }
done

images=("$@")
[ ${#images[@]} -gt 0 ] || images=("${ALL[@]}")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mqttspec-smoke.XXXXXX")
cid=
sub_pid=
cleanup() {
	[ -n "$sub_pid" ] && kill "$sub_pid" 2>/dev/null
	[ -n "$cid" ] && docker rm -f -v "$cid" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

log() { printf '%s %s\n' "$(date +%T)" "$*"; }

# Wait until the broker accepts an MQTT connection (a CONNECT answered by a CONNACK).
wait_ready() { # port
	local deadline=$((SECONDS + READY_TIMEOUT))
	until mosquitto_pub -h 127.0.0.1 -p "$1" -V mqttv311 -i "smoke-ready-$$" -t mqttspec/smoke/ready -n -q 0 2>/dev/null; do
		if [ $SECONDS -ge $deadline ]; then return 1; fi
		if [ "$(docker inspect --format '{{.State.Running}}' "$cid")" != true ]; then return 1; fi
		sleep 0.5
	done
}

# Subscribe, wait for the SUBACK, publish one QoS 1 message, expect exactly it back.
pubsub() { # port version name
	local port=$1 v=$2 name=$3 topic msg out=$tmp/sub.out deadline
	topic="mqttspec/smoke/$name/$v/$$"
	msg="hello from smoke.sh ($name, $v, $RANDOM)"
	: >"$out"
	stdbuf -oL mosquitto_sub -h 127.0.0.1 -p "$port" -V "$v" -i "smoke-sub-$$" -t "$topic" -q 1 -C 1 -W 20 -d >"$out" 2>&1 &
	sub_pid=$!
	deadline=$((SECONDS + 20))
	until grep -q 'received SUBACK' "$out"; do
		if ! kill -0 "$sub_pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
			echo "    subscriber never got its SUBACK:" && sed 's/^/      /' "$out"
			kill "$sub_pid" 2>/dev/null; sub_pid=; return 1
		fi
		sleep 0.1
	done
	if ! mosquitto_pub -h 127.0.0.1 -p "$port" -V "$v" -i "smoke-pub-$$" -t "$topic" -q 1 -m "$msg"; then
		kill "$sub_pid" 2>/dev/null; sub_pid=; return 1
	fi
	if ! wait "$sub_pid"; then
		sub_pid=
		echo "    subscriber failed:" && sed 's/^/      /' "$out"
		return 1
	fi
	sub_pid=
	grep -qxF "$msg" "$out" || { echo "    message not received; subscriber output:" && sed 's/^/      /' "$out"; return 1; }
}

# A protocol version the broker does not implement must be refused at CONNECT.
refused() { # port version
	! mosquitto_pub -h 127.0.0.1 -p "$1" -V "$2" -i "smoke-refused-$$" -t mqttspec/smoke/refused -n -q 0 >/dev/null 2>&1
}

failed=()
results=()
for name in "${images[@]}"; do
	tag=${TAG[$name]:?unknown image $name}
	start=$SECONDS
	log "$name ($tag)"
	ports=(-p 127.0.0.1::1883)
	for p in ${EXTRA_PORTS[$name]:-}; do ports+=(-p "127.0.0.1::$p"); done
	cid=$(docker run -d "${ports[@]}" "$tag")
	port=$(docker port "$cid" 1883/tcp | sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -n1)
	ok=1 notes=()
	if [ -z "$port" ] || ! wait_ready "$port"; then
		echo "    not ready within ${READY_TIMEOUT}s; container log:"
		docker logs --tail 30 "$cid" 2>&1 | sed 's/^/      /'
		ok=0
	else
		notes+=("ready after $((SECONDS - start))s on 127.0.0.1:$port")
		for v in mqttv311 mqttv5; do
			if [[ " ${VERSIONS[$name]} " == *" $v "* ]]; then
				if pubsub "$port" "$v" "$name"; then notes+=("$v pub/sub ok"); else notes+=("$v pub/sub FAILED"); ok=0; fi
			elif refused "$port" "$v"; then
				notes+=("$v refused (unsupported, as expected)")
			else
				notes+=("$v accepted although unsupported?"); ok=0
			fi
		done
		for p in ${EXTRA_PORTS[$name]:-}; do
			hp=$(docker port "$cid" "$p/tcp" | sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -n1)
			if [ -n "$hp" ] && (exec 3<>"/dev/tcp/127.0.0.1/$hp") 2>/dev/null; then
				notes+=("port $p open")
			else
				notes+=("port $p CLOSED"); ok=0
			fi
		done
	fi
	docker rm -f -v "$cid" >/dev/null
	cid=
	for n in "${notes[@]}"; do echo "    $n"; done
	status=ok
	[ $ok = 1 ] || { status=FAILED; failed+=("$name"); }
	results+=("$(printf '%-10s %-27s %-6s %4ss' "$name" "$tag" "$status" "$((SECONDS - start))")")
done

echo
printf '%s\n' "${results[@]}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "smoke.sh: failed: ${failed[*]}" >&2
	exit 1
fi
