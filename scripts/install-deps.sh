#!/bin/sh
# Installs the Debian packages berth's build, tests and benchmarks need.
# Idempotent: it asks apt only for what is missing, and runs
# `apt-get update` at most once.
set -eu

build="gcc make meson ninja-build pkg-config libjson-c-dev libseccomp-dev libcap-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev libarchive-dev libisal-dev libzstd-dev zlib1g-dev xxd"
fuzz="clang libclang-rt-14-dev"
tests="libcmocka-dev bats jq python3 curl openssl busybox-static docker-registry apache2-utils skopeo umoci zstd pigz procps iproute2 uidmap util-linux bsdutils runc crun podman containerd"
# check-cgroup2 boots Debian's kernel (fetched with `apt-get download`, never
# installed) under qemu, as this host's cgroups are not pure v2; its second
# boot copies this host's systemd into the VM as PID 1, and tests the
# systemd cgroup driver's helper, which needs libsystemd-dev to be built.
vm="qemu-system-x86 systemd libsystemd-dev"
bench="hyperfine time"

want="$build"
case "${1:-all}" in
build) ;;
all) want="$build $fuzz $tests $vm $bench" ;;
*) echo "usage: install-deps.sh [build|all]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
                missing="$missing $p"
        fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing packages:$missing (run as root to install them)" >&2
        exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
