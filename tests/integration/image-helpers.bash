# Shared setup for the image tests (bats): the `berth` CLI against a store
# of its own per test, images made by tests/image/*.py and put into a local
# registry (registry-helpers.bash) with skopeo.
#
#   BERTH   the CLI under test (default build/src/cli/berth)
#
# image_setup gives each test its own --root/--runroot (B_ROOT, B_RUNROOT),
# HOME (so credentials never touch the user's) and XDG_RUNTIME_DIR;
# image_teardown fails the test when something is left mounted below the
# root or a berth process of this test still runs.

bats_require_minimum_version 1.5.0

IMAGE_SRC_DIR=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${BERTH:=$IMAGE_SRC_DIR/build/src/cli/berth}"
MKIMAGE=$IMAGE_SRC_DIR/tests/image/mkimage.py
MKTAR=$IMAGE_SRC_DIR/tests/image/mktar.py
export BERTH

image_setup() {
	[ -x "$BERTH" ] || skip "berth is not built ($BERTH)"
	B_ROOT=$BATS_TEST_TMPDIR/root
	B_RUNROOT=$BATS_TEST_TMPDIR/run
	export HOME=$BATS_TEST_TMPDIR/home XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/xdg
	mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
	chmod 700 "$XDG_RUNTIME_DIR"
	unset DOCKER_CONFIG REGISTRY_AUTH_FILE BERTH_ROOT BERTH_RUNROOT DOCKER_DEFAULT_PLATFORM
}

image_teardown() {
	local left
	pkill -9 -f -- "--root $B_ROOT " 2>/dev/null || true
	left=$(awk -v r="$BATS_TEST_TMPDIR" 'index($2, r) == 1 {print $2}' /proc/self/mounts)
	if [ -n "$left" ]; then
		printf '%s\n' "$left" | sort -r | xargs -r -n1 umount -l
		fail "left mounted: $left"
	fi
}

berth() {
	"$BERTH" --root "$B_ROOT" --runroot "$B_RUNROOT" "$@"
}

fail() {
	printf '%s\n' "$@" >&2
	return 1
}

show_run() {
	printf 'status: %s\noutput:\n%s\n' "$status" "$output" >&2
}

# expect_status N: after `run`, fails with the output unless the status is N.
expect_status() {
	if [ "$status" -ne "$1" ]; then
		show_run
		fail "expected status $1, got $status"
	fi
}

# expect_output_has TEXT: the last `run` printed a line containing TEXT.
expect_output_has() {
	if [[ "$output" != *"$1"* ]]; then
		show_run
		fail "output lacks: $1"
	fi
}

# push_layout LAYOUT NAME: copies an OCI layout (all platforms) to $REGISTRY/NAME.
push_layout() {
	local creds=()
	[ -n "${REGISTRY_USER:-}" ] && creds=(--dest-creds "$REGISTRY_USER:$REGISTRY_PASS")
	skopeo copy --quiet --all --dest-tls-verify=false "${creds[@]}" "oci:$1" "docker://$REGISTRY/$2" >&2
}

# busybox_tar: the busybox root filesystem tar, made once per test file.
busybox_tar() {
	local t=$BATS_FILE_TMPDIR/busybox.tar
	[ -f "$t" ] || python3 "$MKTAR" busybox "$t"
	echo "$t"
}

# digest_of FILE: "sha256:<hex>" of a file.
digest_of() {
	echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

# config_digest LAYOUT [PLATFORM-INDEX]: the image ID of a layout's (first) image.
config_digest() {
	python3 - "$1" "${2:-0}" <<-'PY'
		import json, sys, os
		lay, n = sys.argv[1], int(sys.argv[2])
		blob = lambda d: json.load(open(os.path.join(lay, "blobs", *d.split(":"))))
		top = blob(json.load(open(os.path.join(lay, "index.json")))["manifests"][0]["digest"])
		m = blob(top["manifests"][n]["digest"]) if "manifests" in top else top
		print(m["config"]["digest"])
	PY
}
