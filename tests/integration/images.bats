#!/usr/bin/env bats
# berth pull, images, tag, rmi, image inspect, history, image prune and push
# against a local distribution registry (anonymous), with images that skopeo
# puts there and skopeo and podman read back.

load registry-helpers
load image-helpers

setup_file() {
	registry_start anon
	export REGISTRY REGISTRY_DIR REGISTRY_URL
	local bb
	bb=$(busybox_tar)
	# One image, three platforms and an attestation, as buildx pushes them.
	python3 "$MKIMAGE" "$BATS_FILE_TMPDIR/multi" --tar "$bb" --platform linux/amd64 \
		--platform linux/arm64/v8 --platform linux/arm/v7 --attestation >"$BATS_FILE_TMPDIR/multi.top"
	push_layout "$BATS_FILE_TMPDIR/multi" test/busybox:latest
	# Single-platform images: Docker media types, zstd layers, labels, two layers.
	python3 "$MKTAR" file "$BATS_FILE_TMPDIR/hello.tar" etc/hello "hello from layer two"
	python3 "$MKIMAGE" "$BATS_FILE_TMPDIR/docker" --docker --tar "$bb" \
		--tar "$BATS_FILE_TMPDIR/hello.tar" --label org.example.kind=docker >/dev/null
	push_layout "$BATS_FILE_TMPDIR/docker" test/docker:v1
	python3 "$MKIMAGE" "$BATS_FILE_TMPDIR/zstd" --compress zstd --tar "$bb" --label org.example.kind=zstd >/dev/null
	push_layout "$BATS_FILE_TMPDIR/zstd" test/zstd:v1
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

@test "pull: a multi-platform image picks this host's platform and skips the attestation" {
	run berth pull "$REGISTRY/test/busybox"
	expect_status 0
	expect_output_has "latest: Pulling from test/busybox"
	expect_output_has ": Pull complete"
	expect_output_has "Digest: $(cat "$BATS_FILE_TMPDIR/multi.top")"
	expect_output_has "Status: Downloaded newer image for $REGISTRY/test/busybox:latest"
	[ "${lines[-1]}" = "$REGISTRY/test/busybox:latest" ]

	run berth image inspect --format '{{.Id}} {{.Architecture}} {{.Os}} {{json .Config.Cmd}}' "$REGISTRY/test/busybox"
	expect_status 0
	[ "$output" = "$(config_digest "$BATS_FILE_TMPDIR/multi" 0) amd64 linux [\"sh\"]" ]

	# The same again: nothing new.
	run berth pull "$REGISTRY/test/busybox:latest"
	expect_status 0
	expect_output_has "Status: Image is up to date for $REGISTRY/test/busybox:latest"
}

@test "pull --platform picks another entry of the index; an absent one is named" {
	run berth pull --platform linux/arm64 "$REGISTRY/test/busybox"
	expect_status 0
	run berth image inspect --format '{{.Id}} {{.Architecture}} {{.Variant}}' "$REGISTRY/test/busybox"
	[ "$output" = "$(config_digest "$BATS_FILE_TMPDIR/multi" 1) arm64 v8" ]

	run berth pull --platform linux/arm/v7 "$REGISTRY/test/busybox"
	expect_status 0
	run berth image inspect --format '{{.Architecture}}/{{.Variant}}' "$REGISTRY/test/busybox"
	[ "$output" = "arm/v7" ]

	run berth pull --platform linux/s390x "$REGISTRY/test/busybox"
	expect_status 1
	expect_output_has "linux/s390x"
	expect_output_has "linux/amd64"
	[[ "$output" != *unknown* ]]
}

@test "pull: Docker media types, zstd layers, several layers; inspect shows what the image says" {
	run berth pull -q "$REGISTRY/test/docker:v1"
	expect_status 0
	[ "$output" = "$REGISTRY/test/docker:v1" ]
	run berth pull "$REGISTRY/test/zstd:v1"
	expect_status 0

	run berth image inspect "$REGISTRY/test/docker:v1"
	expect_status 0
	local diffs
	diffs=$(printf '%s\n' "$output" | jq -r '.[0].RootFS.Layers | join(" ")')
	[ "$diffs" = "$(digest_of "$(busybox_tar)") $(digest_of "$BATS_FILE_TMPDIR/hello.tar")" ]
	[ "$(printf '%s\n' "$output" | jq -r '.[0].Config.Labels["org.example.kind"]')" = docker ]
	[ "$(printf '%s\n' "$output" | jq -r '.[0].RepoTags[0]')" = "$REGISTRY/test/docker:v1" ]
	[ "$(printf '%s\n' "$output" | jq -r '.[0].RepoDigests[0]')" = "$REGISTRY/test/docker@$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/test/docker:v1")" ]
	[ "$(printf '%s\n' "$output" | jq -r '.[0].Size')" -gt 1000000 ]

	# Both layers are unpacked where inspect says, with the file of the second.
	local upper
	upper=$(printf '%s\n' "$output" | jq -r '.[0].GraphDriver.Data.UpperDir')
	[ "$(cat "$upper/etc/hello")" = "hello from layer two" ]
	# The busybox layer is shared with the zstd image: unpacked once.
	[ "$(find "$B_ROOT/layers" -mindepth 1 -maxdepth 1 -name '[0-9a-f]*' | wc -l)" -eq 2 ]
}

@test "pull by digest: no tag, a repo digest; images shows <none> and finds it by digest" {
	local top
	top=$(cat "$BATS_FILE_TMPDIR/multi.top")
	run berth pull "$REGISTRY/test/busybox@$top"
	expect_status 0
	run berth images --format '{{.Repository}} {{.Tag}} {{.Digest}}'
	[ "$output" = "$REGISTRY/test/busybox <none> $top" ]
	run berth image inspect --format '{{.Id}}' "$REGISTRY/test/busybox@$top"
	[ "$output" = "$(config_digest "$BATS_FILE_TMPDIR/multi" 0)" ]
}

@test "images: table, -q, --no-trunc, --digests, filters, --format" {
	berth pull -q "$REGISTRY/test/docker:v1" >/dev/null
	berth pull -q "$REGISTRY/test/zstd:v1" >/dev/null
	berth tag "$REGISTRY/test/zstd:v1" myzstd:latest

	run berth images
	expect_status 0
	[[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]]
	[ "${#lines[@]}" -eq 4 ]
	[[ "$output" == *"myzstd "*" latest "* ]]

	local id
	id=$(config_digest "$BATS_FILE_TMPDIR/zstd")
	run berth images -q --no-trunc
	[ "${#lines[@]}" -eq 2 ]
	[[ "$output" == *"$id"* ]]
	run berth images -q myzstd
	[ "$output" = "${id:7:12}" ]

	run berth images --filter reference='myzs*' --format '{{.Repository}}:{{.Tag}}'
	[ "$output" = "myzstd:latest" ]
	run berth images --filter label=org.example.kind=docker --format '{{.Repository}}'
	[ "$output" = "$REGISTRY/test/docker" ]
	run berth images --filter dangling=true -q
	[ -z "$output" ]
	run berth images --digests --format 'table {{.Tag}}\t{{.Digest}}'
	[[ "${lines[0]}" =~ ^TAG\ +DIGEST$ ]]
	run berth images --filter bogus=1
	expect_status 1
	expect_output_has "invalid filter 'bogus'"
}

@test "tag and rmi: untag, then delete the image and its layers and blobs" {
	berth pull -q "$REGISTRY/test/docker:v1" >/dev/null
	run berth tag "$REGISTRY/test/docker:v1" other/name:2
	expect_status 0
	run berth rmi other/name:2
	expect_status 0
	[ "$output" = "Untagged: other/name:2" ]
	run berth image inspect --format '{{.RepoTags}}' "$REGISTRY/test/docker:v1"
	[ "$output" = "[$REGISTRY/test/docker:v1]" ]

	local id
	id=$(config_digest "$BATS_FILE_TMPDIR/docker")
	run berth rmi "${id:7:6}"
	expect_status 0
	expect_output_has "Untagged: $REGISTRY/test/docker:v1"
	expect_output_has "Deleted: $id"
	[ "$(printf '%s\n' "$output" | grep -c '^Deleted: ')" -eq 3 ] # the image and two layers
	run berth images -q
	[ -z "$output" ]
	[ -z "$(ls "$B_ROOT/blobs/sha256")" ]
	[ -z "$(ls "$B_ROOT/layers/l")" ]

	run berth rmi nosuch:image
	expect_status 1
	[ "$output" = "Error: No such image: nosuch:image" ]
}

@test "rmi by ID refuses an image named in several repositories unless forced" {
	berth pull -q "$REGISTRY/test/zstd:v1" >/dev/null
	berth tag "$REGISTRY/test/zstd:v1" elsewhere:1
	local id
	id=$(config_digest "$BATS_FILE_TMPDIR/zstd")
	run berth rmi "${id:7:12}"
	expect_status 1
	expect_output_has "conflict: unable to delete ${id:7:12} (must be forced) - image is referenced in multiple repositories"
	run berth rmi -f "${id:7:12}"
	expect_status 0
	expect_output_has "Untagged: elsewhere:1"
	expect_output_has "Deleted: $id"
}

@test "history lists the config's entries, newest first, with layer sizes" {
	berth pull -q "$REGISTRY/test/docker:v1" >/dev/null
	run berth history "$REGISTRY/test/docker:v1"
	expect_status 0
	[[ "${lines[0]}" =~ ^IMAGE\ +CREATED\ +CREATED\ BY\ +SIZE\ +COMMENT$ ]]
	[[ "${lines[1]}" == "$(config_digest "$BATS_FILE_TMPDIR/docker" | cut -c8-19) "*"mkimage.py layer 1"* ]]
	[[ "${lines[2]}" == "<missing> "*"mkimage.py layer 0"* ]]
	run berth history -H=false --format '{{.Size}}' "$REGISTRY/test/docker:v1"
	[ "${lines[1]}" = "$(stat -c %s "$(busybox_tar)")" ]
}

@test "a tag that moves leaves a dangling image that image prune removes" {
	berth pull -q "$REGISTRY/test/zstd:v1" >/dev/null
	# Move the tag on the registry to another image, and pull it again.
	push_layout "$BATS_FILE_TMPDIR/docker" test/moving:v1
	berth pull -q "$REGISTRY/test/moving:v1" >/dev/null
	python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/new" --tar "$BATS_FILE_TMPDIR/hello.tar" >/dev/null
	push_layout "$BATS_TEST_TMPDIR/new" test/moving:v1
	run berth pull "$REGISTRY/test/moving:v1"
	expect_status 0
	expect_output_has "Status: Downloaded newer image"

	run berth images --filter dangling=true --format '{{.Repository}}:{{.Tag}} {{.ID}}'
	[ "$output" = "$REGISTRY/test/moving:<none> $(config_digest "$BATS_FILE_TMPDIR/docker" | cut -c8-19)" ] ||
		[ "$output" = "<none>:<none> $(config_digest "$BATS_FILE_TMPDIR/docker" | cut -c8-19)" ]

	run berth image prune -f
	expect_status 0
	expect_output_has "deleted: $(config_digest "$BATS_FILE_TMPDIR/docker")"
	expect_output_has "Total reclaimed space:"
	run berth images -q
	[ "${#lines[@]}" -eq 2 ]

	run berth image prune -a -f
	expect_status 0
	run berth images -q
	[ -z "$output" ]
	[ -z "$(ls "$B_ROOT/blobs/sha256")" ]
}

@test "push: the digest on the registry is the local one; skopeo and podman read it back" {
	berth pull -q "$REGISTRY/test/docker:v1" >/dev/null
	berth tag "$REGISTRY/test/docker:v1" "$REGISTRY/pushed/app:v2"
	run berth push "$REGISTRY/pushed/app:v2"
	expect_status 0
	expect_output_has "The push refers to repository [$REGISTRY/pushed/app]"
	local digest
	digest=$(berth image inspect --format '{{index .RepoDigests 0}}' "$REGISTRY/test/docker:v1")
	digest=${digest#*@}
	expect_output_has "v2: digest: $digest size:"
	# Both layers came from test/docker on the same registry: mounted, not uploaded.
	[ "$(printf '%s\n' "$output" | grep -c 'Mounted from test/docker')" -eq 2 ]

	run skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/pushed/app:v2"
	[ "$output" = "$digest" ]

	# Pushed again: the registry has every blob.
	run berth push "$REGISTRY/pushed/app:v2"
	expect_status 0
	[ "$(printf '%s\n' "$output" | grep -c 'Layer already exists')" -eq 2 ]

	local proot=$BATS_TEST_TMPDIR/podman
	run podman --root "$proot/root" --runroot "$proot/run" --storage-driver vfs pull -q --tls-verify=false "$REGISTRY/pushed/app:v2"
	expect_status 0
	run podman --root "$proot/root" --runroot "$proot/run" --storage-driver vfs images --digests --format '{{.Digest}} {{.ID}}' "$REGISTRY/pushed/app:v2"
	local id
	id=$(config_digest "$BATS_FILE_TMPDIR/docker")
	[ "$output" = "$digest ${id:7:12}" ]
	podman --root "$proot/root" --runroot "$proot/run" --storage-driver vfs rmi -a -f >/dev/null 2>&1 || true
}

@test "push uploads what the registry lacks, in chunks when asked" {
	# Content the registry has never seen: a local import of a fresh tarball.
	head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/random"
	tar -C "$BATS_TEST_TMPDIR" -cf "$BATS_TEST_TMPDIR/rootfs.tar" random
	run berth import -c 'CMD ["/random"]' "$BATS_TEST_TMPDIR/rootfs.tar" "$REGISTRY/fresh/random:v1"
	expect_status 0
	run env BERTH_PUSH_CHUNK_SIZE=65536 "$BERTH" --root "$B_ROOT" --runroot "$B_RUNROOT" push "$REGISTRY/fresh/random:v1"
	expect_status 0
	expect_output_has ": Pushed"
	local digest
	digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/fresh/random:v1")
	expect_output_has "v1: digest: $digest"
	# The registry's log shows the blob went up in PATCH requests.
	local patches
	patches=$(grep 'http.request.method=PATCH' "$REGISTRY_LOG" | grep -c 'http.request.uri="/v2/fresh/random/blobs/uploads/' || true)
	[ "$patches" -ge 4 ] || fail "expected the layer in PATCH chunks of 64 KiB, the registry saw $patches"
	# What the registry holds is the exact image: skopeo copies it out and it verifies.
	run skopeo copy --quiet --src-tls-verify=false "docker://$REGISTRY/fresh/random:v1" "oci:$BATS_TEST_TMPDIR/back:v1"
	expect_status 0
	# And pulled into a fresh store it is the same image.
	local id
	id=$(berth image inspect --format '{{.Id}}' "$REGISTRY/fresh/random:v1")
	B_ROOT=$BATS_TEST_TMPDIR/root2
	run berth pull -q "$REGISTRY/fresh/random:v1"
	expect_status 0
	run berth image inspect --format '{{.Id}}' "$REGISTRY/fresh/random:v1"
	[ "$output" = "$id" ]
}

@test "two pulls of one image at once do the work once and both succeed" {
	berth pull -q "$REGISTRY/test/docker:v1" >/dev/null &
	local p1=$!
	berth pull -q "$REGISTRY/test/docker:v1" >/dev/null &
	local p2=$!
	wait "$p1"
	wait "$p2"
	run berth images -q
	[ "${#lines[@]}" -eq 1 ]
	[ "$(find "$B_ROOT/layers" -mindepth 1 -maxdepth 1 -name '[0-9a-f]*' | wc -l)" -eq 2 ]
	[ -z "$(ls -A "$B_ROOT/layers/tmp")" ]
	run berth image inspect --format '{{.Id}}' "$REGISTRY/test/docker:v1"
	[ "$output" = "$(config_digest "$BATS_FILE_TMPDIR/docker")" ]
}

@test "errors name what was wrong: bad reference, unknown tag, unreachable registry" {
	run berth pull 'Bad:Name'
	expect_status 1
	expect_output_has "invalid reference format"
	run berth pull "$REGISTRY/test/busybox:nosuchtag"
	expect_status 1
	expect_output_has "nosuchtag"
	expect_output_has "manifest unknown"
	run berth pull "127.0.0.1:1/x/y:z"
	expect_status 1
	expect_output_has "127.0.0.1:1"
	run berth pull --tls-verify=maybe "$REGISTRY/test/busybox"
	expect_status 125
	expect_output_has 'invalid argument "maybe" for "--tls-verify" flag'
	run berth images -q
	[ -z "$output" ]
}

@test "pull on a terminal draws a line per layer and redraws it in place" {
	# script(1) gives berth a pty for stdout, as a user's terminal would.
	run script -qec "TERM=xterm $BERTH --root $B_ROOT --runroot $B_RUNROOT pull $REGISTRY/test/docker:v1" /dev/null
	expect_status 0
	# Cursor-up and erase-line sequences, and a progress bar.
	[[ "$output" == *$'\033['*A$'\033[2K'* ]] || fail "no in-place redraw: $(printf '%q' "$output")"
	expect_output_has "Pull complete"
	expect_output_has "Status: Downloaded newer image for $REGISTRY/test/docker:v1"
	# Without a terminal: plain lines, no escapes.
	berth rmi -f "$REGISTRY/test/docker:v1" >/dev/null
	run berth pull "$REGISTRY/test/docker:v1"
	[[ "$output" != *$'\033'* ]]
}
