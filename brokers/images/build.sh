#!/usr/bin/env bash
# shellcheck disable=SC2317 # the build_* functions are called indirectly ("build_$name")
# Build the broker images mqttspec tests against, locally, without any registry:
#
#   mqttspec/reference:dev    our reference broker        static Go binary, FROM scratch
#   mqttspec/mochi:2.7.9      mochi-mqtt v2.7.9           static Go binary, FROM scratch
#   mqttspec/nats:2.15.2      nats-server v2.15.2         static Go binary, FROM scratch
#   mqttspec/mosquitto:2.0.11 Debian bookworm's mosquitto  mmdebstrap rootfs + docker import
#   mqttspec/rabbitmq:3.10    Debian bookworm's rabbitmq   mmdebstrap rootfs + docker import
#   mqttspec/ejabberd:23.01   Debian bookworm's ejabberd   optional: built only when named (build.sh ejabberd)
#
# Usage: brokers/images/build.sh [-f|--force] [-j N] [IMAGE...]   (IMAGE: reference mochi nats
# mosquitto rabbitmq, default all five; or ejabberd, only when named). Go code comes through the
# Go module proxy, Debian packages from the mirror in the machine's apt sources (read at build
# time, never written here).
#
# Cache: every image carries the label org.mqttspec.images.inputs, a SHA-256 over its inputs
# (this script, its directory under brokers/images/, the Go toolchain, the compiled Go files and
# module versions, the apt sources and the resolved Debian package versions). An image whose
# label matches is not rebuilt; --force (or IMAGES_FORCE=1) rebuilds anyway.
#
# Environment: IMAGES_JOBS (parallel builds, default 5), IMAGES_APT_UPDATE=0 (do not run
# apt-get update before resolving package versions), IMAGES_KEEP_LOGS=1 (keep build logs),
# IMAGES_BOOTSTRAP=debootstrap (skip mmdebstrap, which is otherwise tried first).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
self="$here/$(basename "${BASH_SOURCE[0]}")"

# Not used here, but never let a testcontainers-based helper dial anything but loopback.
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
# The classic builder: FROM scratch needs no pull, and buildx may be missing.
export DOCKER_BUILDKIT=0
command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"

ALL=(reference mochi nats mosquitto rabbitmq)
declare -A TAG=(
	[reference]=mqttspec/reference:dev
	[mochi]=mqttspec/mochi:2.7.9
	[nats]=mqttspec/nats:2.15.2
	[mosquitto]=mqttspec/mosquitto:2.0.11
	[rabbitmq]=mqttspec/rabbitmq:3.10
)
TAG[ejabberd]=mqttspec/ejabberd:23.01 # optional: not in ALL, so built only when named
NATS_MODULE=github.com/nats-io/nats-server/v2
NATS_VERSION=v2.15.2
MOCHI_MODULE=github.com/mochi-mqtt/server/v2
MOCHI_VERSION=v2.7.9
DEBIAN_SUITE=bookworm
MOSQUITTO_VERSION=2.0.11 # upstream version the Debian package must carry
RABBITMQ_VERSION=3.10    # upstream series the Debian package must carry
EJABBERD_VERSION=23.01   # upstream version the Debian ejabberd package must carry
# Merged /usr without the usrmerge package (which would pull in ~50 MB of perl): mmdebstrap
# gets its merged-usr hooks (symlinks, then usr-is-merged), debootstrap makes the symlinks
# itself and is given usr-is-merged to satisfy init-system-helpers' "usrmerge | usr-is-merged".
MMDEBSTRAP_HOOKS=/usr/share/mmdebstrap/hooks/merged-usr
EXTRA_PACKAGES=usr-is-merged

LABEL_INPUTS=org.mqttspec.images.inputs
LABEL_VERSION=org.mqttspec.images.version

force=${IMAGES_FORCE:-0}
jobs=${IMAGES_JOBS:-5}
selected=()
while [ $# -gt 0 ]; do
	case "$1" in
	-f | --force) force=1 ;;
	-j) jobs=$2; shift ;;
	-j*) jobs=${1#-j} ;;
	-h | --help) sed -n '3,/^set -euo/p' "$self" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "build.sh: unknown option $1" >&2; exit 2 ;;
	*)
		[ -n "${TAG[$1]:-}" ] || { echo "build.sh: unknown image $1 (one of: ${ALL[*]})" >&2; exit 2; }
		selected+=("$1")
		;;
	esac
	shift
done
[ ${#selected[@]} -gt 0 ] || selected=("${ALL[@]}")

log() { printf '%s %s\n' "$(date +%T)" "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

command -v docker >/dev/null || die "docker is not installed"
docker version --format '{{.Server.Version}}' >/dev/null || die "the Docker engine does not answer"

work=$(mktemp -d "${TMPDIR:-/tmp}/mqttspec-images.XXXXXX")
chmod 0755 "$work" # apt downloads as _apt into the rootfs below it
pids=()
cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || true; done
	# Never follow a mount a killed mmdebstrap may have left inside a rootfs.
	if grep -q " $work/" /proc/mounts 2>/dev/null; then
		echo "build.sh: mounts left under $work; not removing it" >&2
	elif [ "${IMAGES_KEEP_LOGS:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
		find "$work" -mindepth 2 -maxdepth 2 \( -name ctx -o -name rootfs \) -prune -exec rm -rf --one-file-system {} + 2>/dev/null || true
		echo "build.sh: logs kept in $work" >&2
	else
		rm -rf --one-file-system "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Inputs (cache keys)

sha() { sha256sum | cut -d' ' -f1; }

# Every file of brokers/images/NAME, path and content, plus this script.
dir_inputs() {
	echo "script $(sha <"$self")"
	(cd "$here/$1" && find . -type f ! -name '*.log' -print0 | sort -z | xargs -0 sha256sum)
}

go_inputs() {
	echo "go $(go version) $(go env GOOS GOARCH GOAMD64 GOFLAGS | tr '\n' ' ')"
}

# The Go files compiled into ./cmd/mqttspec (content) and the versions of the modules it uses.
reference_inputs() {
	(
		cd "$repo"
		sha256sum go.mod
		CGO_ENABLED=0 go list -deps -f '{{if not .Standard}}{{if .Module}}{{if .Module.Main}}M {{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .SFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{else}}D {{.Module.Path}}@{{.Module.Version}}{{with .Module.Replace}} => {{.Path}}@{{.Version}}{{end}}{{end}}{{end}}{{end}}' ./cmd/mqttspec |
			while read -r kind pkgdir files; do
				if [ "$kind" = D ]; then
					echo "$pkgdir $files"
				else
					for f in $files; do sha256sum "${pkgdir#"$repo"/}/$f"; done
				fi
			done | sort -u
	)
}

# The apt sources and every package (with its version) apt would install for PACKAGE into an
# empty system: changes when the mirror moves on (after apt-get update on this machine).
debian_inputs() {
	local pkg=$1
	echo "suite $DEBIAN_SUITE"
	sha256sum "$(apt_sources)"
	echo "bootstrap $(mmdebstrap --version 2>/dev/null || echo none)"
	apt-get -s -o Dir::State::status=/dev/null -o APT::Install-Recommends=false install "$pkg" $EXTRA_PACKAGES |
		awk '/^Inst /{print $2, substr($3, 2)}' | sort
}

inputs_hash() {
	local name=$1
	{
		dir_inputs "$name"
		case "$name" in
		reference) go_inputs; reference_inputs ;;
		mochi) go_inputs ;;
		nats) go_inputs; echo "module $NATS_MODULE@$NATS_VERSION" ;;
		mosquitto) debian_inputs mosquitto ;;
		rabbitmq) debian_inputs rabbitmq-server ;;
		ejabberd) debian_inputs ejabberd ;;
		esac
	} | tee "$work/$name/inputs" | sha
}

# ---------------------------------------------------------------------------------------------
# Debian: mirror, bootstrap tool

apt_sources() {
	local f
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
		if [ -s "$f" ] && grep -qE '^(deb |Types:.*deb)' "$f"; then echo "$f"; return; fi
	done
	die "no Debian apt sources found (/etc/apt/sources.list.d/debian.sources)"
}

# The first mirror URI serving $DEBIAN_SUITE, for debootstrap (which takes a single mirror).
apt_mirror() {
	local f
	f=$(apt_sources)
	case "$f" in
	*.sources)
		awk -v suite="$DEBIAN_SUITE" '
			/^[[:space:]]*#/ { next }
			/^[[:space:]]*$/ { if (uri != "" && suites ~ ("(^| )" suite "( |$)")) { print uri; exit } uri = ""; suites = ""; next }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" { $1 = ""; suites = $0; sub(/^ /, "", suites) }
			END { if (uri != "" && suites ~ ("(^| )" suite "( |$)")) print uri }' "$f" | head -n1
		;;
	*) awk -v suite="$DEBIAN_SUITE" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++; if ($(i + 1) == suite) { print $i; exit } }' "$f" ;;
	esac
}

ensure_bootstrap_tool() {
	[ "${IMAGES_BOOTSTRAP:-mmdebstrap}" = debootstrap ] && return
	command -v mmdebstrap >/dev/null && return
	[ "$(id -u)" = 0 ] || die "mmdebstrap is missing (apt-get install mmdebstrap) and we are not root"
	log "installing mmdebstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null
}

# ---------------------------------------------------------------------------------------------
# Builders. Each runs in its own subshell with $dir (a scratch directory), writes the version
# it found to $dir/version and builds ${TAG[name]} with the inputs label.

docker_build() { # name context version
	local name=$1 ctx=$2 version=$3
	cp "$here/$name/Dockerfile" "$ctx/Dockerfile"
	docker build --quiet --force-rm -t "${TAG[$name]}" \
		--label "$LABEL_INPUTS=$inputs" --label "$LABEL_VERSION=$version" \
		--label "org.opencontainers.image.title=mqttspec-$name" \
		--label "org.opencontainers.image.version=$version" \
		"$ctx"
}

# The version of module MOD compiled into BINARY (go version -m).
module_version() {
	go version -m "$1" | awk -v mod="$2" '($1 == "mod" || $1 == "dep") && $2 == mod { print $3; exit }'
}

build_reference() {
	local ctx=$dir/ctx
	mkdir -p "$ctx"
	(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$ctx/mqttspec" ./cmd/mqttspec)
	local v
	v="dev ($(go version -m "$ctx/mqttspec" | awk 'NR == 1 { print $2 }'))"
	echo "$v" >"$dir/version"
	docker_build reference "$ctx" "$v"
}

build_mochi() {
	local ctx=$dir/ctx
	mkdir -p "$ctx"
	(cd "$here/mochi" && CGO_ENABLED=0 go build -trimpath -o "$ctx/mochi" .)
	local v
	v=$(module_version "$ctx/mochi" "$MOCHI_MODULE")
	[ "$v" = "$MOCHI_VERSION" ] || die "mochi: built with $MOCHI_MODULE $v, expected $MOCHI_VERSION (brokers/images/mochi/go.mod)"
	echo "$v" >"$dir/version"
	docker_build mochi "$ctx" "$v"
}

build_nats() {
	local ctx=$dir/ctx
	mkdir -p "$ctx"
	GOBIN="$ctx" CGO_ENABLED=0 go install -trimpath "$NATS_MODULE@$NATS_VERSION"
	cp "$here/nats/nats.conf" "$ctx/"
	local v
	v=$(module_version "$ctx/nats-server" "$NATS_MODULE")
	[ "$v" = "$NATS_VERSION" ] || die "nats: built $v, expected $NATS_VERSION"
	echo "$v" >"$dir/version"
	docker_build nats "$ctx" "$v"
}

# A Debian minbase root file system with PACKAGE, small: no docs, man pages, locales, apt lists.
bootstrap_rootfs() { # rootfs package
	local rootfs=$1 pkg=$2 sources
	sources=$(apt_sources)
	if [ "${IMAGES_BOOTSTRAP:-mmdebstrap}" = debootstrap ]; then
		debootstrap_rootfs "$rootfs" "$pkg"
		echo debootstrap >"$dir/bootstrap"
	else
		log "mmdebstrap $DEBIAN_SUITE --variant=minbase --include=$pkg (mirror from $sources)"
		mmdebstrap_rootfs "$rootfs" "$pkg" "$sources" || {
			log "mmdebstrap failed; falling back to debootstrap"
			if grep -q " $rootfs" /proc/mounts; then die "mounts left under $rootfs"; fi
			rm -rf --one-file-system "$rootfs"
			debootstrap_rootfs "$rootfs" "$pkg"
			echo "debootstrap, as mmdebstrap failed" >"$dir/bootstrap"
		}
	fi
	rm -rf --one-file-system "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* \
		"$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old \
		"$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/lintian \
		"$rootfs"/var/log/apt "$rootfs"/var/log/dpkg.log "$rootfs"/var/log/alternatives.log \
		"$rootfs"/var/log/bootstrap.log "$rootfs"/debootstrap
	find "$rootfs"/usr/share/doc -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
	find "$rootfs"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
}

mmdebstrap_rootfs() { # rootfs package sources
	local rootfs=$1 pkg=$2 sources=$3
	[ -d "$MMDEBSTRAP_HOOKS" ] || die "$MMDEBSTRAP_HOOKS is missing (mmdebstrap >= 1.1 has it)"
	mmdebstrap --variant=minbase --include="$pkg" --hook-dir="$MMDEBSTRAP_HOOKS" \
		--aptopt='APT::Install-Recommends "false"' --aptopt='APT::Install-Suggests "false"' \
		--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
		--dpkgopt='path-exclude=/usr/share/lintian/*' --dpkgopt='path-exclude=/usr/share/linda/*' \
		"$DEBIAN_SUITE" "$rootfs" "$sources"
}

# The fallback: debootstrap takes one mirror (the first serving the suite in the apt sources), so
# the image lacks the security suite's updates; dpkg excludes do not apply, the cleanup does.
debootstrap_rootfs() { # rootfs package
	local rootfs=$1 pkg=$2 mirror
	if ! command -v debootstrap >/dev/null; then
		log "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	fi
	mirror=$(apt_mirror)
	[ -n "$mirror" ] || die "no mirror for $DEBIAN_SUITE in $(apt_sources)"
	log "debootstrap --variant=minbase --include=$pkg $DEBIAN_SUITE (first mirror of $(apt_sources))"
	debootstrap --variant=minbase --include="$pkg,${EXTRA_PACKAGES// /,}" "$DEBIAN_SUITE" "$rootfs" "$mirror"
	if chroot "$rootfs" dpkg-query -W -f='${Status}' usrmerge 2>/dev/null | grep -q ' installed$'; then
		chroot "$rootfs" apt-get purge -y -qq --auto-remove usrmerge
	fi
}

installed_version() { # rootfs package
	chroot "$1" dpkg-query -W -f='${Version}' "$2"
}

docker_import() { # name rootfs version change...
	local name=$1 rootfs=$2 version=$3
	shift 3
	local changes=() c
	for c in "$@" "LABEL $LABEL_INPUTS=\"$inputs\"" "LABEL $LABEL_VERSION=\"$version\"" \
		"LABEL org.opencontainers.image.title=\"mqttspec-$name\"" "LABEL org.opencontainers.image.version=\"$version\""; do
		changes+=(--change "$c")
	done
	tar -C "$rootfs" --numeric-owner -cf - . | docker import "${changes[@]}" - "${TAG[$name]}"
}

build_mosquitto() {
	local rootfs=$dir/rootfs v
	bootstrap_rootfs "$rootfs" mosquitto
	v=$(installed_version "$rootfs" mosquitto)
	case "$v" in "$MOSQUITTO_VERSION"-*) ;; *) die "mosquitto: Debian has $v, expected $MOSQUITTO_VERSION" ;; esac
	echo "$v" >"$dir/version"
	# The official eclipse-mosquitto layout.
	mkdir -p "$rootfs"/mosquitto/config "$rootfs"/mosquitto/data "$rootfs"/mosquitto/log
	install -m 0644 "$here/mosquitto/mosquitto.conf" "$rootfs/mosquitto/config/mosquitto.conf"
	install -m 0755 "$here/mosquitto/docker-entrypoint.sh" "$rootfs/docker-entrypoint.sh"
	chroot "$rootfs" chown -R mosquitto:mosquitto /mosquitto
	docker_import mosquitto "$rootfs" "$v" \
		'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		'VOLUME ["/mosquitto/data", "/mosquitto/log"]' \
		'EXPOSE 1883' \
		'ENTRYPOINT ["/docker-entrypoint.sh"]' \
		'CMD ["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]'
}

build_rabbitmq() {
	local rootfs=$dir/rootfs v
	bootstrap_rootfs "$rootfs" rabbitmq-server
	v=$(installed_version "$rootfs" rabbitmq-server)
	case "$v" in "$RABBITMQ_VERSION".*) ;; *) die "rabbitmq: Debian has rabbitmq-server $v, expected $RABBITMQ_VERSION.x" ;; esac
	echo "$v (Erlang $(installed_version "$rootfs" erlang-base))" >"$dir/version"
	# The official rabbitmq image's paths: config in /etc/rabbitmq, data in /var/lib/rabbitmq.
	install -m 0644 "$here/rabbitmq/rabbitmq.conf" "$rootfs/etc/rabbitmq/rabbitmq.conf"
	install -m 0644 "$here/rabbitmq/enabled_plugins" "$rootfs/etc/rabbitmq/enabled_plugins"
	mkdir -p "$rootfs/etc/rabbitmq/conf.d"
	install -m 0755 "$here/rabbitmq/docker-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
	chroot "$rootfs" chown -R rabbitmq:rabbitmq /etc/rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
	docker_import rabbitmq "$rootfs" "$(cat "$dir/version")" \
		'ENV PATH=/usr/lib/rabbitmq/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		'ENV HOME=/var/lib/rabbitmq' \
		'ENV RABBITMQ_DATA_DIR=/var/lib/rabbitmq' \
		'ENV LANG=C.UTF-8' \
		'ENV RABBITMQ_LOGS=-' \
		'VOLUME ["/var/lib/rabbitmq"]' \
		'EXPOSE 1883 4369 5671 5672 25672' \
		'ENTRYPOINT ["docker-entrypoint.sh"]' \
		'CMD ["rabbitmq-server"]'
}

# build_ejabberd, for the optional ejabberd image, lives in its own directory.
. "$here/ejabberd/image.sh"
# ---------------------------------------------------------------------------------------------
# Run

need_debian=0
for n in "${selected[@]}"; do case "$n" in mosquitto | rabbitmq) need_debian=1 ;; esac; done
case " ${selected[*]} " in *" ejabberd "*) need_debian=1 ;; esac
if [ $need_debian = 1 ]; then
	[ "$(id -u)" = 0 ] || die "mosquitto and rabbitmq are built with mmdebstrap/chroot and need root"
	ensure_bootstrap_tool
	if [ "${IMAGES_APT_UPDATE:-1}" != 0 ]; then
		log "apt-get update (to resolve the current package versions for the cache keys)"
		apt-get update -qq >/dev/null
	fi
fi

# One image: decide cached/built, write "status seconds" to $work/NAME/result.
run_one() {
	local name=$1 start=$SECONDS current old
	dir=$work/$name
	inputs=$(inputs_hash "$name")
	current=$(docker image inspect --format "{{index .Config.Labels \"$LABEL_INPUTS\"}}" "${TAG[$name]}" 2>/dev/null || true)
	if [ "$force" != 1 ] && [ "$current" = "$inputs" ]; then
		docker image inspect --format "{{index .Config.Labels \"$LABEL_VERSION\"}}" "${TAG[$name]}" >"$dir/version"
		echo "cached $((SECONDS - start))" >"$dir/result"
		return
	fi
	old=$(docker image inspect --format '{{.Id}}' "${TAG[$name]}" 2>/dev/null || true)
	"build_$name"
	# The image the tag pointed to before is now untagged: remove it unless something uses it.
	if [ -n "$old" ] && [ "$old" != "$(docker image inspect --format '{{.Id}}' "${TAG[$name]}")" ]; then
		docker image rm "$old" >/dev/null 2>&1 || true
	fi
	echo "built $((SECONDS - start))" >"$dir/result"
}

# Each image builds in a background job with its own process group (set -m), so an interrupt
# can stop its whole tree; its output goes to $work/NAME/log.
set -m
declare -A job_name=()
report_done() {
	local res
	if res=$(cat "$work/$1/result" 2>/dev/null); then
		log "$1: ${res%% *} in ${res#* }s"
	else
		log "$1: FAILED (log: $work/$1/log)"
	fi
}
total_start=$SECONDS
log "building ${selected[*]} ($jobs at a time; logs in $work)"
for name in "${selected[@]}"; do
	mkdir -p "$work/$name"
	while [ "${#job_name[@]}" -ge "$jobs" ]; do
		done_pid=
		wait -n -p done_pid || true
		[ -n "$done_pid" ] && { report_done "${job_name[$done_pid]}"; unset "job_name[$done_pid]"; }
	done
	(run_one "$name") >"$work/$name/log" 2>&1 &
	pids+=($!)
	job_name[$!]=$name
	log "$name: started"
done
while [ "${#job_name[@]}" -gt 0 ]; do
	done_pid=
	wait -n -p done_pid || true
	[ -n "$done_pid" ] && { report_done "${job_name[$done_pid]}"; unset "job_name[$done_pid]"; }
done
pids=()
set +m

failed=0
rows=()
for name in "${selected[@]}"; do
	res=$(cat "$work/$name/result" 2>/dev/null || echo "FAILED -")
	status=${res%% *} secs=${res#* } size=- version=
	if [ "$status" = FAILED ]; then
		failed=1
		echo "---- $name failed; last lines of its log ($work/$name/log):" >&2
		tail -n 40 "$work/$name/log" >&2
	else
		size=$(docker image inspect --format '{{.Size}}' "${TAG[$name]}" | awk '{ printf "%.1f MB", $1 / 1e6 }')
		version=$(cat "$work/$name/version" 2>/dev/null || true)
		if [ -s "$work/$name/bootstrap" ]; then version="$version (rootfs by $(cat "$work/$name/bootstrap"))"; fi
	fi
	rows+=("$(printf '%-10s %-27s %10s  %-7s %5s  %s' "$name" "${TAG[$name]}" "$size" "$status" "$secs" "$version")")
done

echo
printf '%-10s %-27s %10s  %-7s %5s  %s\n' IMAGE TAG SIZE STATUS SECS VERSION
printf '%s\n' "${rows[@]}"
printf 'total %ss, load:%s\n' "$((SECONDS - total_start))" "$(uptime | sed 's/.*load average://')"
exit $failed
