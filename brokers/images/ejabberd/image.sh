# shellcheck shell=bash
# The optional ejabberd image (mqttspec/ejabberd), sourced by ../build.sh, whose helpers it uses:
# Debian bookworm's ejabberd 23.01 (XMPP server with an MQTT 3.1.1/5.0 broker, mod_mqtt) in an
# mmdebstrap rootfs, laid out like the official ejabberd container (/home/ejabberd/{bin,conf,
# database,logs}, ENTRYPOINT /home/ejabberd/bin/ejabberdctl, CMD foreground), so that one profile
# works with either. This file is part of the image's cache key (brokers/images/ejabberd/*).

build_ejabberd() {
	local rootfs=$dir/rootfs v
	bootstrap_rootfs "$rootfs" ejabberd
	v=$(installed_version "$rootfs" ejabberd)
	case "$v" in "$EJABBERD_VERSION"-*) ;; *) die "ejabberd: Debian has $v, expected $EJABBERD_VERSION" ;; esac
	echo "$v (Erlang $(installed_version "$rootfs" erlang-base))" >"$dir/version"
	mkdir -p "$rootfs"/home/ejabberd/bin "$rootfs"/home/ejabberd/conf \
		"$rootfs"/home/ejabberd/database "$rootfs"/home/ejabberd/logs
	install -m 0755 "$here/ejabberd/ejabberdctl" "$rootfs/home/ejabberd/bin/ejabberdctl"
	install -m 0644 "$here/ejabberd/ejabberd.yml" "$rootfs/home/ejabberd/conf/ejabberd.yml"
	# Debian's resolver settings for the Erlang node (localhost without DNS).
	install -m 0644 "$rootfs/etc/ejabberd/inetrc" "$rootfs/home/ejabberd/conf/inetrc"
	chroot "$rootfs" chown -R ejabberd:ejabberd /home/ejabberd
	docker_import ejabberd "$rootfs" "$(cat "$dir/version")" \
		'ENV PATH=/home/ejabberd/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		'ENV HOME=/home/ejabberd' \
		'ENV LANG=C.UTF-8' \
		'WORKDIR /home/ejabberd' \
		'EXPOSE 1883 5280' \
		'ENTRYPOINT ["/home/ejabberd/bin/ejabberdctl"]' \
		'CMD ["foreground"]'
}
