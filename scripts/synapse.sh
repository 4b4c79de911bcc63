#!/usr/bin/env bash
# Installs and runs a throwaway Synapse for Gavel's tests and demo.
#
# Synapse comes from Debian sid's matrix-synapse package, installed once per
# machine into a debootstrap chroot kept outside the repository (the cache).
# Homeservers then run inside that chroot, each in a fresh directory.
#
#   scripts/synapse.sh install        install Synapse into the cache if missing
#   scripts/synapse.sh root           print the chroot's path
#   scripts/synapse.sh version        print the installed Synapse version
#
# Environment:
#   GAVEL_SYNAPSE_ROOT   the chroot (default: $XDG_CACHE_HOME/gavel/synapse-sid,
#                        or ~/.cache/gavel/synapse-sid)
#   GAVEL_DEBIAN_MIRROR  Debian mirror for debootstrap (default: debootstrap's own)
set -euo pipefail

cache_home=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}
root=${GAVEL_SYNAPSE_ROOT:-$cache_home/gavel/synapse-sid}
mirror=${GAVEL_DEBIAN_MIRROR:-}
ready="$root/.gavel-ready"

say() { printf 'synapse.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

need_root() {
	[ "$(id -u)" = 0 ] || die "installing Synapse needs root (debootstrap and chroot); run as root or set GAVEL_SYNAPSE_ROOT to a prepared chroot"
}

install_synapse() {
	if [ -e "$ready" ]; then
		return 0
	fi
	need_root
	mkdir -p "$(dirname "$root")"
	# Test packages start in parallel; only one of them may install.
	exec 9>"$root.lock"
	if ! flock -n 9; then
		say "another process is installing Synapse into $root; waiting for it"
		flock 9
	fi
	if [ -e "$ready" ]; then
		return 0
	fi
	if ! command -v debootstrap >/dev/null 2>&1; then
		say "debootstrap is missing; installing it with apt-get"
		apt-get install -y --no-install-recommends debootstrap >/dev/null ||
			die "could not install debootstrap; install it and try again"
	fi
	local start=$SECONDS
	say "installing Synapse once for this machine into $root (about 70 s and 700 MB)"
	if [ ! -x "$root/usr/bin/apt-get" ]; then
		rm -rf "$root"
		# Without GAVEL_DEBIAN_MIRROR, debootstrap uses its own default
		# mirror (and writes it to the chroot's sources.list).
		local args=(--variant=minbase sid "$root") from="debootstrap's default mirror"
		if [ -n "$mirror" ]; then
			args+=("$mirror")
			from=$mirror
		fi
		say "step 1/2: debootstrap Debian sid (minbase) from $from"
		local log="$root.debootstrap.log"
		if ! debootstrap "${args[@]}" >"$log" 2>&1; then
			tail -n 20 "$log" >&2
			die "debootstrap failed; the full log is $log"
		fi
	fi
	say "step 2/2: apt-get install matrix-synapse inside the chroot"
	local log="$root.apt.log"
	# The mirror may serve a snapshot whose Release file has passed its
	# Valid-Until date; that is not a reason to fail a test run.
	if ! chroot "$root" env DEBIAN_FRONTEND=noninteractive sh -c \
		'apt-get -o Acquire::Check-Valid-Until=false update &&
		 apt-get install -y --no-install-recommends matrix-synapse' >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		die "installing matrix-synapse failed; the full log is $log"
	fi
	chroot "$root" python3 -c 'import synapse' ||
		die "matrix-synapse is installed but python3 cannot import synapse"
	touch "$ready"
	say "Synapse $(synapse_version) installed in $((SECONDS - start)) s"
}

synapse_version() {
	chroot "$root" python3 -c 'import synapse; print(synapse.__version__)'
}

case "${1:-}" in
install) install_synapse ;;
root) printf '%s\n' "$root" ;;
version)
	[ -e "$ready" ] || die "Synapse is not installed; run: $0 install"
	synapse_version
	;;
*)
	sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
