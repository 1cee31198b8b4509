#!/bin/sh
# Like the official eclipse-mosquitto entrypoint: give /mosquitto (config, data, log,
# possibly mounted volumes) to the mosquitto user, then run the command. Mosquitto,
# started as root, drops its privileges to that user itself.
set -e

if [ "$(id -u)" = 0 ] && [ -d /mosquitto ]; then
	chown -R mosquitto:mosquitto /mosquitto 2>/dev/null || true
fi

exec "$@"
