#!/usr/bin/env bats
# berth image mount / unmount and --storage-driver: an image's root
# filesystem as overlay and as a vfs copy, whiteouts and opaque directories
# applied, compared with podman's own `image mount` of the same image; rmi
# and prune leave a mounted image alone.

load registry-helpers
load image-helpers

setup_file() {
	registry_start anon
	export REGISTRY REGISTRY_DIR REGISTRY_URL
	local bb t=$BATS_FILE_TMPDIR
	bb=$(busybox_tar)
	# busybox, then a file, then a whiteout of etc/shadow, then var/spool made opaque.
	python3 "$MKTAR" file "$t/hello.tar" etc/hello "hello from layer two"
	python3 "$MKTAR" whiteout "$t/wh.tar" etc/shadow
	python3 "$MKTAR" opaque "$t/opq.tar" var/spool
	python3 "$MKIMAGE" "$t/layered" --tar "$bb" --tar "$t/hello.tar" --tar "$t/wh.tar" \
		--tar "$t/opq.tar" >/dev/null
	push_layout "$t/layered" test/layered:v1
	python3 "$MKIMAGE" "$t/plain" --tar "$bb" --label org.example.kind=plain >/dev/null
	push_layout "$t/plain" test/plain:v1
	export LAYERED=$REGISTRY/test/layered:v1 PLAIN=$REGISTRY/test/plain:v1
}

teardown_file() {
	registry_stop
}

setup() {
	image_setup
	berth pull -q "$LAYERED" >/dev/null
}

teardown() {
	if [ -n "${PODMAN_ROOT:-}" ]; then
		podman_local image unmount --all >/dev/null 2>&1 || true
	fi
	image_teardown
}

image_hex() {
	berth image inspect --format '{{.Id}}' "$1" | sed 's/^sha256://'
}

# tree DIR: one line per entry, what a user could tell apart (file contents by digest).
tree() {
	(
		cd "$1" || exit 1
		find . -mindepth 1 \( -type d -printf '%p d %m %U:%G\n' \) -o \
			\( ! -type d -printf '%p %y %m %U:%G %s %n %T@ %l\n' \) | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
	)
}

podman_local() {
	podman --root "$PODMAN_ROOT" --runroot "$PODMAN_RUNROOT" --storage-driver vfs \
		--events-backend none "$@"
}

@test "image mount prints a read-only root filesystem with whiteouts and opaque directories applied" {
	local hex path
	hex=$(image_hex "$LAYERED")
	run berth image mount "$LAYERED"
	expect_status 0
	path=$output
	[ "$path" = "$B_ROOT/mounts/$hex/merged" ]
	[ "$(findmnt -n -o FSTYPE --target "$path")" = overlay ]
	findmnt -n -o OPTIONS --target "$path" | grep -q '^ro,'
	[ -x "$path/bin/busybox" ]
	[ "$(cat "$path/etc/hello")" = "hello from layer two" ]
	grep -q '^root:x:0:0' "$path/etc/passwd"
	[ ! -e "$path/etc/shadow" ]
	[ ! -e "$path/var/spool/mail" ]
	[ "$(cat "$path/var/spool/kept")" = kept ]
	# no whiteout (0:0 device) shows, and nothing can be written
	[ -z "$(find "$path" -type c)" ]
	run touch "$path/new-file"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]

	# Mounted again: the same path. Without arguments: the list.
	run berth image mount "$LAYERED"
	expect_status 0
	[ "$output" = "$path" ]
	run berth image mount
	expect_status 0
	[ "$output" = "$LAYERED  $path" ]

	run berth image unmount "$LAYERED"
	expect_status 0
	[ "$output" = "$hex" ]
	[ ! -e "$B_ROOT/mounts/$hex" ]
	run berth image mount
	expect_status 0
	[ -z "$output" ]
	run berth image unmount "$LAYERED"
	expect_status 1
	expect_output_has "is not mounted"
}

@test "--storage-driver vfs (and BERTH_STORAGE_DRIVER) give the same tree as overlay" {
	local hex ovl vfs
	hex=$(image_hex "$LAYERED")
	ovl=$(berth image mount "$LAYERED")
	tree "$ovl" >"$BATS_TEST_TMPDIR/overlay.tree"
	# a second driver for a mounted image is refused
	run berth --storage-driver vfs image mount "$LAYERED"
	expect_status 1
	expect_output_has "mounted with the overlay driver"
	berth image umount "$LAYERED" >/dev/null

	run berth --storage-driver vfs image mount "$LAYERED"
	expect_status 0
	vfs=$output
	[ "$vfs" = "$B_ROOT/mounts/$hex/rootfs" ]
	[ "$(findmnt -n -o FSTYPE --target "$vfs")" != overlay ]
	findmnt -n -o OPTIONS --target "$vfs" | grep -q '^ro,'
	tree "$vfs" >"$BATS_TEST_TMPDIR/vfs.tree"
	diff -u "$BATS_TEST_TMPDIR/overlay.tree" "$BATS_TEST_TMPDIR/vfs.tree"
	[ "$(cat "$vfs/var/spool/kept")" = kept ]
	[ ! -e "$vfs/etc/shadow" ]
	# busybox's applets stay hardlinks of one file
	[ "$(stat -c %i "$vfs/bin/busybox")" = "$(stat -c %i "$vfs/bin/sh")" ]
	berth image unmount "$LAYERED" >/dev/null

	BERTH_STORAGE_DRIVER=vfs run berth image mount "$LAYERED"
	expect_status 0
	[ "$output" = "$B_ROOT/mounts/$hex/rootfs" ]
	berth image unmount --all >/dev/null

	run berth --storage-driver btrfs image mount "$LAYERED"
	expect_status 125
	expect_output_has 'unsupported storage driver "btrfs"'
}

@test "image mount shows the tree podman's image mount shows" {
	local ours theirs
	PODMAN_ROOT=$BATS_TEST_TMPDIR/podman/root
	PODMAN_RUNROOT=$BATS_TEST_TMPDIR/podman/run
	podman_local pull -q --tls-verify=false "$LAYERED" >/dev/null
	theirs=$(podman_local image mount "$LAYERED")
	ours=$(berth image mount "$LAYERED")
	tree "$theirs" >"$BATS_TEST_TMPDIR/podman.tree"
	tree "$ours" >"$BATS_TEST_TMPDIR/berth.tree"
	diff -u "$BATS_TEST_TMPDIR/podman.tree" "$BATS_TEST_TMPDIR/berth.tree"
	# a tree worth comparing: busybox's applets, the opaque directory's file
	[ "$(wc -l <"$BATS_TEST_TMPDIR/berth.tree")" -gt 300 ]
	grep -q '^./var/spool/kept f 644 0:0 5 1 ' "$BATS_TEST_TMPDIR/berth.tree"
	if grep -q 'etc/shadow' "$BATS_TEST_TMPDIR/berth.tree"; then fail "etc/shadow shows"; fi
	podman_local image unmount "$LAYERED" >/dev/null
	berth image unmount "$LAYERED" >/dev/null
}

@test "rmi and prune leave a mounted image; after unmount rmi removes it" {
	local hex path
	hex=$(image_hex "$LAYERED")
	path=$(berth image mount "$LAYERED")

	run berth rmi "$LAYERED"
	expect_status 1
	expect_output_has "image is in use by a mount"
	expect_output_has "unmount it first"
	[[ "$output" != *Untagged* ]]
	run berth rmi -f "$hex"
	expect_status 1
	expect_output_has "in use by a mount"
	run berth image prune -a -f
	expect_status 0
	[[ "$output" != *"$hex"* ]]
	berth image inspect "$LAYERED" >/dev/null
	[ -x "$path/bin/busybox" ]

	run berth image unmount "$LAYERED"
	expect_status 0
	run berth rmi "$LAYERED"
	expect_status 0
	expect_output_has "Untagged: $LAYERED"
	expect_output_has "Deleted: sha256:$hex"
	[ -z "$(ls "$B_ROOT/layers" | grep -v '^l$' | grep -v '^tmp$')" ]
	[ -z "$(ls "$B_ROOT/mounts")" ]
}

@test "several images: NAME path lines, --format json, unmount --all" {
	local a b
	berth pull -q "$PLAIN" >/dev/null
	run berth image mount "$LAYERED" "$PLAIN"
	expect_status 0
	a=$B_ROOT/mounts/$(image_hex "$LAYERED")/merged
	b=$B_ROOT/mounts/$(image_hex "$PLAIN")/merged
	# podman's two columns, padded to the longer name
	[ "${lines[0]}" = "$LAYERED  $a" ]
	[ "$(tr -s ' ' <<<"${lines[1]}")" = "$PLAIN $b" ]

	run berth image mount --format json
	expect_status 0
	python3 - "$output" "$a" "$b" "$(image_hex "$PLAIN")" <<-'PY'
		import json, sys
		v = json.loads(sys.argv[1])
		assert sorted(m["mountpoint"] for m in v) == sorted(sys.argv[2:4]), v
		assert any(m["id"] == sys.argv[4] and m["Names"] for m in v), v
	PY

	run berth image unmount --all
	expect_status 0
	[ "${#lines[@]}" -eq 2 ]
	run berth image mount
	[ -z "$output" ]

	run berth image unmount
	expect_status 125
	run berth image mount --all "$PLAIN"
	expect_status 125
	run berth image mount no-such-image
	expect_status 1
	expect_output_has "No such image"
}
