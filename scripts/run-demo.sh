#!/bin/sh
# `make run`: a busybox root filesystem from the distribution's static
# busybox, a default config from `berth-runtime spec`, and one container run
# with `berth-runtime run`, showing what it sees from inside.
set -eu

build=${1:-build}
rt="$build/src/cli/berth-runtime"
bundle="$build/demo-bundle"
state="$build/demo-state"
id="berth-demo-$$"

rm -rf "$bundle"
mkdir -p "$bundle"
scripts/mk-busybox-rootfs.sh "$bundle/rootfs"
"$rt" spec --bundle "$bundle"
jq '.process.terminal = false
    | .hostname = "berth-demo"
    | .process.args = ["sh", "-c", "echo \"hello from inside a berth container\"; echo; echo \"hostname: $(hostname)\"; echo \"pid:      $$\"; echo \"user:     $(id)\"; echo \"kernel:   $(uname -sr)\"; echo; echo processes:; ps; echo; echo mounts:; cat /proc/mounts"]' \
        "$bundle/config.json" > "$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

echo "+ berth-runtime --root $state run --bundle $bundle $id"
"$rt" --root "$state" run --bundle "$bundle" "$id"
