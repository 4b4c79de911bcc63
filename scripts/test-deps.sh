#!/usr/bin/env bash
# Installs, with apt-get, what `make test` needs beyond Go and is missing:
# only the missing packages, saying which and why. `make test` and .ci/run
# call it.
#
# Without root it installs nothing: it names the packages to install, and
# the tests that need them are skipped (with CI set, it fails instead, as
# those tests would).
#
# Environment: GAVEL_TEST_HOMESERVER (an external Synapse: no debootstrap
# needed) and GAVEL_TEST_POSTGRES (an external PostgreSQL: no postgresql
# needed), as the tests read them.
set -euo pipefail

say() { printf 'test-deps: %s\n' "$*" >&2; }

missing=() why=()
need() { missing+=("$1"); why+=("$1 ($2)"); }
command -v make >/dev/null || need make "the build"
command -v gcc >/dev/null || { need gcc "the race detector needs cgo"; missing+=(libc6-dev); }
if [ -z "${GAVEL_TEST_HOMESERVER:-}" ]; then
	command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || need debootstrap "scripts/synapse.sh installs Synapse into a chroot"
fi
if [ -z "${GAVEL_TEST_POSTGRES:-}" ]; then
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need postgresql "the store and room-report tests run on PostgreSQL too"
fi
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need nginx "the doorbell tests put nginx in front of Synapse"
command -v systemd-analyze >/dev/null || need systemd "TestSystemdUnit verifies contrib/systemd/gavel.service"
# crun, podman's first choice, refuses a cgroup v1 machine with a v2
# hierarchy beside it; the image test runs containers with runc.
command -v podman >/dev/null || need podman "TestImage builds and runs the container image"
command -v runc >/dev/null || need runc "podman runs the image test's containers with it"
[ -f /etc/ssl/certs/ca-certificates.crt ] || need ca-certificates "make image puts the CA bundle in the image"
command -v node >/dev/null || need nodejs "the policy-list interop test runs Draupnir's policy library"
command -v npm >/dev/null || need npm "the policy-list interop test installs Draupnir's policy library with npm ci"

((${#missing[@]})) || exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
	say "missing: ${why[*]}"
	say "install them (as root: apt-get install ${missing[*]}); until then the tests that need them are skipped"
	if [ -n "${CI:-}" ]; then
		say "CI is set, so a missing package is a failure"
		exit 1
	fi
	exit 0
fi

say "installing ${why[*]}"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine's package lists may be stale or absent: update and retry.
apt-get install -y --no-install-recommends "${missing[@]}" ||
	{ apt-get -o Acquire::Check-Valid-Until=false update && apt-get install -y --no-install-recommends "${missing[@]}"; }
