#!/bin/sh
# Like the official rabbitmq image's entrypoint: options alone run the server with
# them; as root, the data and log directories go to the rabbitmq user and the
# server runs as that user (setpriv instead of gosu), in the foreground, logging to
# standard output. /usr/lib/rabbitmq/bin comes first in PATH, so `rabbitmq-server`
# is the real start script, not Debian's wrapper (which logs to files via su).
set -e

case "$1" in
-*) set -- rabbitmq-server "$@" ;;
esac

if [ "$(id -u)" = 0 ]; then
	case "$1" in
	rabbitmq*)
		chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /var/log/rabbitmq 2>/dev/null || true
		exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$0" "$@"
		;;
	esac
fi

cd /var/lib/rabbitmq
exec "$@"
