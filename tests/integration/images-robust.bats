#!/usr/bin/env bats
# What a registry or an image can do to berth: layers that try to write
# outside their directory, layers too big, pulls killed at any moment.

load registry-helpers
load image-helpers

setup_file() {
	registry_start anon
	export REGISTRY REGISTRY_DIR REGISTRY_URL
	export OUTSIDE=$BATS_FILE_TMPDIR/outside
	mkdir -p "$OUTSIDE"
	echo sentinel >"$OUTSIDE/sentinel"
	local kind
	for kind in dotdot abs-dotdot symlink symlink-rel hardlink device huge; do
		python3 "$MKTAR" "hostile-$kind" "$BATS_FILE_TMPDIR/$kind.tar"
		python3 "$MKIMAGE" "$BATS_FILE_TMPDIR/$kind" --tar "$(busybox_tar)" \
			--tar "$BATS_FILE_TMPDIR/$kind.tar" >/dev/null
		push_layout "$BATS_FILE_TMPDIR/$kind" "hostile/$kind:latest"
	done
	# A bigger image, so that a pull lasts long enough to be killed part-way.
	python3 "$MKTAR" bulk "$BATS_FILE_TMPDIR/bulk.tar" 40 3000
	python3 "$MKIMAGE" "$BATS_FILE_TMPDIR/bulk" --tar "$(busybox_tar)" \
		--tar "$BATS_FILE_TMPDIR/bulk.tar" >/dev/null
	push_layout "$BATS_FILE_TMPDIR/bulk" test/bulk:latest
}

teardown_file() {
	registry_stop
}

setup() {
	image_setup
}

teardown() {
	image_teardown
}

# The store holds no image and no layer but the shared busybox one, and nothing half-made.
store_clean() {
	run berth images -q
	[ -z "$output" ] || fail "images left: $output"
	[ -z "$(ls -A "$B_ROOT/layers/tmp")" ] || fail "layers/tmp: $(ls -A "$B_ROOT/layers/tmp")"
	[ "$(cat "$OUTSIDE/sentinel")" = sentinel ]
	[ "$(ls "$OUTSIDE")" = sentinel ] || fail "written outside: $(ls "$OUTSIDE")"
	[ ! -e "$BATS_FILE_TMPDIR/escaped" ] && [ ! -e /escaped ] && [ ! -e "$B_ROOT/escaped" ] &&
		[ ! -e "$B_ROOT/layers/escaped" ]
}

@test "hostile layers are refused naming the entry, and nothing is written outside" {
	local kind
	declare -A want=(
		[dotdot]="../escaped"
		[abs-dotdot]="escaped"
		[symlink]="evil/escaped"
		[symlink-rel]="up/escaped"
		[hardlink]="shadow"
		[device]="sda"
		[huge]="huge"
	)
	for kind in "${!want[@]}"; do
		run berth pull "$REGISTRY/hostile/$kind"
		[ "$status" -eq 1 ] || fail "$kind: status $status: $output"
		[[ "$output" == *"${want[$kind]}"* ]] || fail "$kind: entry not named: $output"
		store_clean
	done
	run berth image prune -a -f
	[ -z "$(find "$B_ROOT/layers" -mindepth 1 -maxdepth 1 -name '[0-9a-f]*')" ]
}

@test "a pull killed at random moments leaves a consistent store, and the next pull completes" {
	local i delay
	for i in 1 2 3 4 5 6; do
		delay=$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 0.05 + rand() * 0.6 }')
		"$BERTH" --root "$B_ROOT" --runroot "$B_RUNROOT" pull -q "$REGISTRY/test/bulk" >/dev/null 2>&1 &
		sleep "$delay"
		kill -9 $! 2>/dev/null || true
		wait $! 2>/dev/null || true
		# Whatever moment it died at: no image, or the whole image.
		run berth images -q
		if [ -n "$output" ]; then
			run berth image inspect --format '{{len .RootFS.Layers}}' "$REGISTRY/test/bulk"
			[ "$output" = 2 ]
			berth rmi -f "$REGISTRY/test/bulk" >/dev/null
		fi
		[ -z "$(ls -A "$B_ROOT/layers/tmp")" ] || fail "after kill $i (${delay}s): layers/tmp has $(ls -A "$B_ROOT/layers/tmp")"
	done
	run berth pull -q "$REGISTRY/test/bulk"
	expect_status 0
	run berth image inspect --format '{{.Id}}' "$REGISTRY/test/bulk"
	[ "$output" = "$(config_digest "$BATS_FILE_TMPDIR/bulk")" ]
	# Every blob in the store is what its name says.
	local f
	for f in "$B_ROOT"/blobs/sha256/*; do
		[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || fail "corrupt blob $f"
	done
	# Nothing unreferenced is left after a prune either.
	run berth rmi "$REGISTRY/test/bulk"
	expect_status 0
	[ -z "$(ls "$B_ROOT/blobs/sha256")" ]
	[ -z "$(find "$B_ROOT/layers" -mindepth 1 -maxdepth 1 -name '[0-9a-f]*')" ]
}
