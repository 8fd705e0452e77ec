#!/bin/sh
# `make run`: the default image busybox:latest in berth's store (made from
# the distribution's static busybox by scripts/default-image.sh, no network),
# its root filesystem mounted read-only with `berth image mount`, a default
# config from `berth-runtime spec`, and one container run from it with
# `berth-runtime run`, showing what it sees from inside.
# (`berth run` itself comes with the engine.)
set -eu

build=${1:-build}
rt="$build/src/cli/berth-runtime"
berth="$build/src/cli/berth"
bundle="$build/demo-bundle"
state="$build/demo-state"
id="berth-demo-$$"

scripts/default-image.sh "$build"
echo "+ berth images busybox"
"$berth" images busybox

rootfs=$("$berth" image mount busybox:latest)
trap '"$berth" image unmount busybox:latest >/dev/null' EXIT
rm -rf "$bundle"
mkdir -p "$bundle"
"$rt" spec --bundle "$bundle"
jq --arg rootfs "$rootfs" '.root = {path: $rootfs, readonly: true}
    | .process.terminal = false
    | .hostname = "berth-demo"
    | .process.args = ["sh", "-c", "echo \"hello from inside a berth container, from the image busybox:latest\"; echo; echo \"hostname: $(hostname)\"; echo \"pid:      $$\"; echo \"user:     $(id)\"; echo \"kernel:   $(uname -sr)\"; echo; echo processes:; ps; echo; echo mounts:; cat /proc/mounts"]' \
        "$bundle/config.json" > "$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

echo "+ berth-runtime --root $state run --bundle $bundle $id"
"$rt" --root "$state" run --bundle "$bundle" "$id"
