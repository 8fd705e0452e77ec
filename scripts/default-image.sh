#!/bin/sh
# Makes the default image, busybox:latest, from the distribution's static
# busybox (Debian's busybox-static installs it as /bin/busybox), without the
# network:
#   default-image.sh BUILD_DIR [ROOT [RUNROOT]]
# ROOT/RUNROOT default to berth's own defaults (BERTH_ROOT, /var/lib/berth,
# ...). Does nothing when the store has busybox:latest already.
#
# The root filesystem is tests/image/mktar.py's (deterministic entries), the
# image's created time is the busybox binary's mtime (SOURCE_DATE_EPOCH), so
# every machine with the same busybox package gets the same image ID.
set -eu

build=${1:?usage: default-image.sh BUILD_DIR [ROOT [RUNROOT]]}
root=${2:-}
runroot=${3:-}
src=$(cd "$(dirname "$0")/.." && pwd)
berth="$build/src/cli/berth"
busybox=/bin/busybox

[ -x "$berth" ] || { echo "default-image: $berth is not built" >&2; exit 1; }
"$busybox" --list >/dev/null 2>&1 ||
        { echo "default-image: no static busybox (apt-get install busybox-static)" >&2; exit 1; }

b() {
        if [ -n "$root" ] && [ -n "$runroot" ]; then
                "$berth" --root "$root" --runroot "$runroot" "$@"
        elif [ -n "$root" ]; then
                "$berth" --root "$root" "$@"
        else
                "$berth" "$@"
        fi
}

if b image inspect busybox:latest >/dev/null 2>&1; then
        echo "busybox:latest is there already"
        exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$src/tests/image/mktar.py" busybox "$tmp/rootfs.tar"
SOURCE_DATE_EPOCH=$(stat -c %Y "$busybox") b import --change 'CMD ["sh"]' \
        "$tmp/rootfs.tar" busybox:latest >"$tmp/id"
echo "busybox:latest $(cat "$tmp/id") made from $busybox"
