#!/usr/bin/env bats
# The engine's spec builder end to end: config.json built from an image in
# the store and docker-like flags (by tests/helper/berth-spec-build, until
# `berth run` exists), run by berth-runtime, asserting what a user sees in
# the container. Where podman can run the same thing (an image imported from
# the same root filesystem), its output is compared.
#
#   BERTH_BUILD   the build directory (default build); BERTH and
#                 BERTH_RUNTIME (as scripts/check.sh exports them) override
#                 the CLI and the runtime, the driver comes from BERTH's build.

bats_require_minimum_version 1.5.0

setup_file() {
	SRC=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	: "${BERTH_BUILD:=$SRC/build}"
	: "${BERTH:=$BERTH_BUILD/src/cli/berth}"
	RT=${BERTH_RUNTIME:-$BERTH_BUILD/src/cli/berth-runtime}
	[ -x "$BERTH" ] || return 0
	# The driver lives in the same build directory as the CLI under test.
	BERTH_BUILD=$(cd "$(dirname "$BERTH")/../.." && pwd)
	SB=${BERTH_SPEC_BUILD:-$BERTH_BUILD/tests/helper/berth-spec-build}
	export SRC BERTH RT SB
	[ -x "$RT" ] && [ -x "$SB" ] || return 0
	R=$BATS_FILE_TMPDIR/root
	RR=$BATS_FILE_TMPDIR/run
	RTROOT=$BATS_FILE_TMPDIR/rt
	export R RR RTROOT
	"$SRC/scripts/default-image.sh" "$BERTH_BUILD" "$R" "$RR" >/dev/null
	ROOTFS=$("$BERTH" --root "$R" --runroot "$RR" image mount busybox)
	# The same root filesystem with an image config that sets Env, WorkingDir and User.
	tar -C "$ROOTFS" -cf "$BATS_FILE_TMPDIR/bb.tar" .
	"$BERTH" --root "$R" --runroot "$RR" import -c 'ENV IMG_VAR=from-image' \
		-c 'ENV PATH=/usr/bin:/bin' -c 'WORKDIR /tmp' -c 'USER daemon' -c 'CMD ["id"]' \
		"$BATS_FILE_TMPDIR/bb.tar" configured:latest >/dev/null
	CONFIGURED_ROOTFS=$("$BERTH" --root "$R" --runroot "$RR" image mount configured)
	export ROOTFS CONFIGURED_ROOTFS
}

teardown_file() {
	rmdir /sys/fs/cgroup/*/berth-spec-test 2>/dev/null || true
	[ -n "${R:-}" ] || return 0
	"$BERTH" --root "$R" --runroot "$RR" image unmount busybox >/dev/null 2>&1 || true
	"$BERTH" --root "$R" --runroot "$RR" image unmount configured >/dev/null 2>&1 || true
	if [ -d "$BATS_FILE_TMPDIR/pm" ]; then
		pm image rm -af >/dev/null 2>&1 || true
		awk -v r="$BATS_FILE_TMPDIR/pm" 'index($2, r) == 1 {print $2}' /proc/self/mounts |
			sort -r | xargs -r -n1 umount -l
	fi
}

setup() {
	[ -n "${ROOTFS:-}" ] || skip "berth, berth-runtime or berth-spec-build is not built"
	CID=spec-$BATS_SUITE_TEST_NUMBER-$$
	BUNDLE=$BATS_TEST_TMPDIR/bundle
	mkdir -p "$BUNDLE"
}

teardown() {
	[ -n "${CID:-}" ] || return 0
	"$RT" --root "$RTROOT" delete -f "$CID" >/dev/null 2>&1 || true
	rmdir /sys/fs/cgroup/*/berth-spec-test/"$CID" 2>/dev/null || true
}

fail() {
	printf '%s\n' "$@" >&2
	return 1
}

# ctr [--image NAME] [docker run flags] -- CMD...: builds the config and runs
# the container in the foreground; sets $status and $output (stdout+stderr).
ctr() {
	local image=busybox rootfs=$ROOTFS flags=()
	if [ "$1" = --image ]; then
		image=$2 rootfs=$CONFIGURED_ROOTFS
		shift 2
	fi
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		flags+=("$1")
		shift
	done
	[ "${1:-}" = -- ] && shift
	"$SB" --root "$R" --runroot "$RR" --rootfs "$rootfs" --id "${CID}0123456789abcdef" \
		--cgroups-path "/berth-spec-test/$CID" "${flags[@]}" "$image" "$@" \
		>"$BUNDLE/config.json" || fail "berth-spec-build failed"
	run timeout 60 "$RT" --root "$RTROOT" run -b "$BUNDLE" "$CID"
}

expect() {
	if [ "$status" -ne 0 ] || [ "$output" != "$1" ]; then
		printf 'status %s\noutput:\n%s\nwanted:\n%s\n' "$status" "$output" "$1" >&2
		return 1
	fi
}

# podman on its own store with an image imported from the same tar; runc
# (crun refuses this machine's hybrid cgroups) and no default ulimits (root
# here cannot raise them).
pm() {
	local d=$BATS_FILE_TMPDIR/pm
	mkdir -p "$d/tmp"
	[ -f "$d/containers.conf" ] || printf '[containers]\ndefault_ulimits = []\n' >"$d/containers.conf"
	CONTAINERS_CONF=$d/containers.conf TMPDIR=$d/tmp timeout 120 podman --root "$d/root" \
		--runroot "$d/run" --storage-driver vfs --events-backend none \
		--cgroup-manager cgroupfs --runtime /usr/bin/runc "$@"
}

podman_or_skip() {
	command -v podman >/dev/null && [ -x /usr/bin/runc ] || skip "podman or runc is not installed"
	pm image exists localhost/bb:spec 2>/dev/null ||
		pm import -q "$BATS_FILE_TMPDIR/bb.tar" localhost/bb:spec >/dev/null ||
		skip "podman import failed here"
}

@test "the image's Cmd runs; args replace it; --entrypoint drops it" {
	ctr -- echo hello
	expect "hello"
	ctr --entrypoint /bin/echo -- one two
	expect "one two"
	run "$SB" --root "$R" --runroot "$RR" --rootfs "$ROOTFS" --entrypoint "" busybox
	[ "$status" -eq 125 ] && [ "$output" = "Error: no command specified" ] ||
		fail "got $status: $output"
}

@test "-u 1000:1000, -u nobody, no -u: id as docker and podman show it" {
	ctr -u 1000:1000 -- id
	expect "uid=1000 gid=1000 groups=1000"
	ctr -u nobody -- id
	expect "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)"
	ctr -u daemon:tty -- id
	expect "uid=1(daemon) gid=5(tty) groups=5(tty)"
	# No -u: root, with its primary group and /etc/group's wheel membership (docker's output).
	ctr -- id
	expect "uid=0(root) gid=0(root) groups=0(root),10(wheel)"
	run "$SB" --root "$R" --runroot "$RR" --rootfs "$ROOTFS" -u ghost busybox id
	[ "$status" -eq 125 ] &&
		[ "$output" = "Error: unable to find user ghost: no matching entries in passwd file" ] ||
		fail "got $status: $output"

	# podman adds an /etc/passwd entry for a uid without one (uid=1000(1000)),
	# docker does not: compare the named users only.
	podman_or_skip
	local u ours theirs
	for u in nobody daemon:tty root; do
		ctr -u "$u" -- id
		ours=$output
		theirs=$(pm run --rm --network none -u "$u" localhost/bb:spec id)
		[ "$ours" = "$theirs" ] || fail "-u $u: berth '$ours', podman '$theirs'"
	done
}

@test "-w, -e, the image's Env, WorkingDir and User" {
	ctr -w /etc -e FOO=bar -e HOSTNAME=mine -- sh -c 'pwd; echo $FOO; echo $HOSTNAME; echo $PATH'
	expect "/etc
bar
mine
/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	ctr --image configured
	expect "uid=1(daemon) gid=1(daemon) groups=1(daemon)"
	ctr --image configured -e IMG_VAR=overridden -- sh -c 'pwd; echo $IMG_VAR; echo $PATH'
	expect "/tmp
overridden
/usr/bin:/bin"
	ctr --image configured -u 0 -w / -- sh -c 'pwd; echo $IMG_VAR; id -u'
	expect "/
from-image
0"
}

@test "--env-file and -e NAME from the caller's environment" {
	printf '# comment\nA=1\n\n  B=two words\nFROM_CALLER\n' >"$BATS_TEST_TMPDIR/env"
	FROM_CALLER=passed ctr --env-file "$BATS_TEST_TMPDIR/env" -- sh -c 'echo "$A|$B|$FROM_CALLER"'
	expect "1|two words|passed"
	printf 'BAD NAME=1\n' >"$BATS_TEST_TMPDIR/bad"
	run "$SB" --root "$R" --runroot "$RR" --rootfs "$ROOTFS" --env-file "$BATS_TEST_TMPDIR/bad" busybox true
	[ "$status" -eq 125 ] &&
		[ "$output" = "Error: poorly formatted environment: variable 'BAD NAME' contains whitespaces" ] ||
		fail "got $status: $output"
}

@test "--ulimit nofile=512:512 is what ulimit -n shows; no --ulimit inherits ours" {
	ctr --ulimit nofile=512:512 -- sh -c 'ulimit -n; ulimit -Hn'
	expect "512
512"
	ctr -- sh -c 'ulimit -n'
	expect "$(ulimit -n)"
	run "$SB" --root "$R" --runroot "$RR" --rootfs "$ROOTFS" --ulimit nofile=2:1 busybox true
	[ "$status" -eq 125 ] || fail "soft > hard accepted: $output"
}

@test "hostname: the id's first 12 characters, or --hostname" {
	local id=${CID}0123456789abcdef # the id ctr passes
	ctr -- hostname
	expect "${id:0:12}"
	ctr -h web.example -- sh -c 'hostname; echo $HOSTNAME'
	expect "web.example
web.example"
}

# The image is mounted read-only here, so targets are directories it has.
@test "-v: a bind mount's file is visible, and read-only with :ro" {
	local d=$BATS_TEST_TMPDIR/data
	mkdir -p "$d"
	echo "from the host" >"$d/file"
	ctr -v "$d:/home" -- sh -c 'cat /home/file; echo more >>/home/file && echo written'
	expect "from the host
written"
	[ "$(cat "$d/file")" = "from the host
more" ] || fail "write did not reach the host"
	ctr -v "$d:/home:ro" -- sh -c 'cat /home/file; echo x >/home/file'
	[ "$status" -ne 0 ] || fail "writing through :ro worked: $output"
	[[ "$output" == *"from the host"* && "$output" == *"Read-only file system"* ]] ||
		fail "output: $output"
	ctr --mount "type=bind,src=$d,dst=/root,readonly" --tmpfs /var:size=1m -- \
		sh -c 'cat /root/file | head -1; grep " /var " /proc/mounts | cut -d" " -f3,4'
	[ "$status" -eq 0 ] && [[ "$output" == "from the host"$'\n'"tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k"* ]] ||
		fail "output: $output"
}

@test "--read-only: the root filesystem cannot be written, /dev/shm can" {
	ctr --read-only -- sh -c 'touch /x 2>&1; touch /dev/shm/y && echo shm-ok'
	[[ "$output" == *"Read-only file system"* && "$output" == *"shm-ok"* ]] || fail "output: $output"
}

@test "-m 64m: the cgroup's memory limit (v1 here); --shm-size" {
	[ -d /sys/fs/cgroup/memory ] || skip "no cgroup v1 memory controller here"
	ctr -m 64m --shm-size 8m -- sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; df -k /dev/shm | tail -1 | awk "{print \$2}"'
	expect "67108864
8192"

	podman_or_skip
	local theirs
	theirs=$(pm run --rm --network none -m 64m --shm-size 8m localhost/bb:spec \
		sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; df -k /dev/shm | tail -1 | awk "{print \$2}"')
	[ "$output" = "$theirs" ] || fail "berth '$output', podman '$theirs'"
}
