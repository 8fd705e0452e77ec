# Setup for callers.bats: the runtime driven by its real callers, podman
# (through conmon) and containerd (through containerd-shim-runc-v2).
#
# Environment:
#   BERTH_RUNTIME     runtime under test; default build/src/cli/berth-runtime
#                     when built, else runc
#   REF_RUNTIME       reference runtime for side-by-side checks (runc)
#   CALLERS_TIMEOUT   seconds any one podman/ctr command may take (120)
#
# Every test gets its own directory $T. Podman and containerd keep all their
# state there: podman gets its own containers.conf and storage.conf, and the
# test starts its own containerd on a socket under $T. Neither touches the
# host's default storage, and nothing is shared between tests.
#
# Neither caller is given the runtime itself: each gets a wrapper,
# $SUT_RT (and $REF_RT for runc), that appends its arguments to $CALLS_LOG
# and then execs the runtime, so argv, pid, fds and the exit status are the
# runtime's own. A failing test prints $CALLS_LOG: the exact commands the
# caller ran.
#
# teardown has the caller clean up what the test left, then fails the test
# if processes, mounts, runtime state or container cgroups are still there,
# and removes them.

bats_require_minimum_version 1.5.0

CALLERS_SRC_DIR=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

if [ -z "${BERTH_RUNTIME:-}" ]; then
	if [ -x "$CALLERS_SRC_DIR/build/src/cli/berth-runtime" ]; then
		BERTH_RUNTIME=$CALLERS_SRC_DIR/build/src/cli/berth-runtime
	else
		BERTH_RUNTIME=$(command -v runc || echo /usr/bin/runc)
	fi
fi
: "${REF_RUNTIME:=$(command -v runc || echo /usr/bin/runc)}"
: "${CALLERS_TIMEOUT:=120}"
export BERTH_RUNTIME REF_RUNTIME

# One busybox rootfs per run, the source of every image.
CALLERS_ROOTFS=$BATS_RUN_TMPDIR/callers-rootfs
# Unique per run: names cgroups and containerd namespaces.
CALLERS_TAG=${BATS_RUN_TMPDIR##*-}

# ---- assertions ---------------------------------------------------------------

fail() {
	printf '%s\n' "$@" >&2
	return 1
}

show_run() {
	printf 'status: %s\n' "$status" >&2
	printf 'output: %s\n' "$output" >&2
	[ -z "${stderr+x}" ] || printf 'stderr: %s\n' "$stderr" >&2
}

assert_status() {
	[ "$status" -eq "$1" ] || {
		show_run
		fail "expected exit status $1, got $status"
	}
}

assert_success() { assert_status 0; }

assert_failure() {
	[ "$status" -ne 0 ] || {
		show_run
		fail "expected a failure, got exit status 0"
	}
}

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$2'" "${3:-value}:      got '$1'"
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
	[[ "$1" == *"$2"* ]] || fail "${3:-text} does not contain '$2':" "$1"
}

# assert_same_output WHAT SUT-OUTPUT REF-OUTPUT: a diff when they differ.
assert_same_output() {
	[ "$2" = "$3" ] && return 0
	fail "$1 differs between $BERTH_RUNTIME (<) and $REF_RUNTIME (>):" \
		"$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$3"))"
}

# retry SECONDS CMD...: run CMD every 0.1s until it succeeds or time runs out.
retry() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# The runtime under test claims support for cgroup v1 (or v2, on a pure v2
# host) in `features`. runc 1.1 does; berth-runtime part 1 does not
# (docs/runtime.md, "Not yet").
runtime_has_cgroups() {
	local v=v1
	[ -e /sys/fs/cgroup/cgroup.controllers ] && v=v2
	"$BERTH_RUNTIME" features 2>/dev/null | jq -e ".linux.cgroup.$v == true" >/dev/null
}

runtime_has_seccomp() {
	"$1" features 2>/dev/null | jq -e '.linux.seccomp.enabled == true' >/dev/null
}

# ---- per-test directory, runtime wrappers, rootfs ----------------------------------

ensure_rootfs() {
	[ -e "$CALLERS_ROOTFS.done" ] && return 0
	(
		flock 9
		[ -e "$CALLERS_ROOTFS.done" ] && exit 0
		rm -rf "$CALLERS_ROOTFS.tmp"
		sh "$CALLERS_SRC_DIR/scripts/mk-busybox-rootfs.sh" "$CALLERS_ROOTFS.tmp" >&2 || exit 1
		mv "$CALLERS_ROOTFS.tmp" "$CALLERS_ROOTFS" && touch "$CALLERS_ROOTFS.done"
	) 9>"$BATS_RUN_TMPDIR/callers-rootfs.lock" || fail "could not build the busybox rootfs"
}

abs_path() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" ;;
	esac
}

# make_wrapper DIR RUNTIME TAG: prints DIR/<basename of RUNTIME>, a script
# that logs "TAG[pid] args" to $CALLS_LOG and execs RUNTIME. It keeps the
# runtime's name: podman names a runtime given by path after its basename.
make_wrapper() {
	local dir=$1 real tag=$3 w
	real=$(abs_path "$2")
	w=$dir/$(basename "$real")
	mkdir -p "$dir"
	cat >"$w" <<-EOF
		#!/bin/sh
		echo "${tag}[\$\$] \$*" >>'$CALLS_LOG'
		exec '$real' "\$@"
	EOF
	chmod 755 "$w"
	echo "$w"
}

# The calls the caller made to the runtime under test: "ARGS" lines.
sut_calls() {
	sed -n 's/^sut\[[0-9]*\] //p' "$CALLS_LOG"
}

# assert_sut_called SUBCOMMAND: the caller ran the runtime under test with it.
assert_sut_called() {
	sut_calls | grep -Eq "(^| )$1( |$)" ||
		fail "the caller never ran '$BERTH_RUNTIME $1'; calls:" "$(cat "$CALLS_LOG")"
}

callers_setup() {
	T=$BATS_TEST_TMPDIR
	CALLS_LOG=$T/calls.log
	: >"$CALLS_LOG"
	_CLEANUPS=()
	[ -x "$BERTH_RUNTIME" ] || fail "BERTH_RUNTIME=$BERTH_RUNTIME is not executable" || return 1
	SUT_RT=$(make_wrapper "$T/bin/sut" "$BERTH_RUNTIME" sut)
	REF_RT=$(make_wrapper "$T/bin/ref" "$REF_RUNTIME" ref)
	ensure_rootfs
}

# on_teardown CMD: run CMD (a string for eval) first thing in teardown.
on_teardown() {
	_CLEANUPS+=("$1")
}

# ---- leftovers --------------------------------------------------------------------

# pids_under DIR: processes whose root is under DIR or whose command line
# mentions DIR (conmon, shims, containerd, container processes).
pids_under() {
	local d=$1 p r args
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$$" ] && continue
		r=$(readlink "$p/root" 2>/dev/null) || continue
		if [[ "$r" == "$d"/* ]]; then
			echo "${p#/proc/}"
			continue
		fi
		mapfile -d '' args 2>/dev/null <"$p/cmdline" || continue
		[[ "${args[*]}" == *"$d"* ]] && echo "${p#/proc/}"
	done
	return 0
}

mounts_under() {
	awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo
}

# cgroup_dirs NAME: NAME directly under each cgroup hierarchy.
cgroup_dirs() {
	find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "$1" 2>/dev/null
}

# rm_cgroups NAME: rmdir the trees cgroup_dirs NAME finds, deepest first.
rm_cgroups() {
	local d
	for d in $(cgroup_dirs "$1"); do
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

# runtime_states RUNTIME [ROOT]: ids of containers the runtime lists (in
# ROOT, else its default root) whose bundle is under $T.
runtime_states() {
	local rt=$1 root=${2:-}
	if [ -n "$root" ]; then
		[ -d "$root" ] || return 0
		"$rt" --root "$root" list --format json 2>/dev/null
	else
		"$rt" list --format json 2>/dev/null
	fi | jq -r --arg t "$T/" '(. // [])[] | select(.bundle | startswith($t)) | .id' 2>/dev/null
}

callers_teardown() {
	local rc=0 i pids mounts
	for ((i = ${#_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${_CLEANUPS[i]}" || rc=1
	done

	if ! retry 10 test -z "$(pids_under "$T")"; then
		pids=$(pids_under "$T")
		echo "teardown: processes left behind:" >&2
		ps -o pid,ppid,stat,args -p "$(echo $pids | tr ' ' ,)" >&2 || true
		kill -9 $pids 2>/dev/null || true
		rc=1
	fi
	mounts=$(mounts_under "$T")
	if [ -n "$mounts" ]; then
		echo "teardown: mounts left behind:" $mounts >&2
		for i in $(sort -r <<<"$mounts"); do umount -l "$i" 2>/dev/null || true; done
		rc=1
	fi
	if [ $rc -ne 0 ] || [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		echo "# runtime calls (sut = $BERTH_RUNTIME, ref = $REF_RUNTIME):" >&2
		sed 's/^/#   /' "$CALLS_LOG" >&2
	fi
	# Podman's storage and containerd's root hold full image copies.
	[ -n "$(mounts_under "$T")" ] || rm -rf "$T/podman" "$T/containerd"
	return $rc
}

# ---- podman -------------------------------------------------------------------------

PM_IMAGE=localhost/busybox:berthtest

# podman ARGS... with this test's configuration and storage.
pm() {
	env "${PM_ENV[@]}" timeout -k 5 "$CALLERS_TIMEOUT" podman "$@" 3>&-
}

# pm_is_running NAME: podman reports the container running.
pm_is_running() {
	[ "$(pm inspect --format '{{.State.Status}}' "$1" 2>/dev/null)" = running ]
}

# pm_run RUNTIME ARGS...: `podman run` with the given runtime (a path, as a
# user passes it) and the flags this host needs.
pm_run() {
	local rt=$1
	shift
	pm run --runtime "$rt" "${PM_RUN_FLAGS[@]}" "$@"
}

podman_setup() {
	command -v podman >/dev/null || skip "podman is not installed"
	command -v conmon >/dev/null || [ -x /usr/libexec/podman/conmon ] ||
		skip "podman's conmon is not installed"
	PM_DIR=$T/podman
	mkdir -p "$PM_DIR/tmp" "$PM_DIR/networks"
	PM_ENV=(CONTAINERS_CONF="$PM_DIR/containers.conf" CONTAINERS_STORAGE_CONF="$PM_DIR/storage.conf"
		TMPDIR="$PM_DIR/tmp")
	# Container cgroups go under /$PM_CGROUP_PARENT (cgroupfs manager), not
	# under the host's libpod_parent.
	PM_CGROUP_PARENT=berthtest-$CALLERS_TAG-$BATS_SUITE_TEST_NUMBER

	local sut_name ref_name driver=overlay hn hu
	sut_name=$(basename "$SUT_RT")
	ref_name=$(basename "$REF_RT")
	# Podman only passes --log-format=json to runtimes named here.
	{
		echo "[engine]"
		echo "runtime = \"$sut_name\""
		echo "runtime_supports_json = [\"crun\", \"runc\", \"$sut_name\", \"$ref_name\"]"
		echo "cgroup_manager = \"cgroupfs\""
		echo "events_logger = \"file\""
		echo "events_logfile_path = \"$PM_DIR/events.log\""
		# file locks: the default shm segment /dev/shm/libpod_lock would be
		# shared with the host's podman (and freed by system reset).
		echo "lock_type = \"file\""
		echo "tmp_dir = \"$PM_DIR/tmp\""
		echo "static_dir = \"$PM_DIR/storage/libpod\""
		echo "volume_path = \"$PM_DIR/storage/volumes\""
		echo "image_copy_tmp_dir = \"$PM_DIR/tmp\""
		echo "[engine.runtimes]"
		echo "\"$sut_name\" = [\"$SUT_RT\"]"
		[ "$ref_name" = "$sut_name" ] || echo "\"$ref_name\" = [\"$REF_RT\"]"
		echo "[network]"
		# cni: netavark keeps state in /run/containers/networks whatever
		# the config says. With --network none no plugin runs.
		echo "network_backend = \"cni\""
		echo "network_config_dir = \"$PM_DIR/networks\""
	} >"$PM_DIR/containers.conf"
	[ "$(stat -f -c %T "$T")" = overlayfs ] && driver=vfs
	{
		echo "[storage]"
		echo "driver = \"$driver\""
		echo "graphroot = \"$PM_DIR/storage\""
		echo "runroot = \"$PM_DIR/runroot\""
	} >"$PM_DIR/storage.conf"

	# Podman's default rlimits (nofile and nproc 1048576) can exceed the
	# hard limits, and root may lack CAP_SYS_RESOURCE to raise them: ask for
	# what conmon and the runtime inherit. That is our hard nofile, and for
	# nproc at most 32768: podman 4.3 lowers its own RLIMIT_NPROC to that
	# at startup.
	hn=$(ulimit -Hn)
	hu=$(ulimit -Hu)
	[ "$hn" = unlimited ] && hn=1048576
	{ [ "$hu" = unlimited ] || [ "$hu" -gt 32768 ]; } && hu=32768
	PM_RUN_FLAGS=(--pull never --network none --cgroup-parent "/$PM_CGROUP_PARENT"
		--ulimit "nofile=$hn:$hn" --ulimit "nproc=$hu:$hu")

	on_teardown podman_teardown
	podman_import
}

# The busybox rootfs as $PM_IMAGE. Copying an image writes containers/image's
# blob-info cache to /var/lib/containers/cache whatever the storage config
# says, so the import runs with a private tmpfs on /var/lib.
podman_import() {
	tar -C "$CALLERS_ROOTFS" -c . |
		env "${PM_ENV[@]}" timeout -k 5 "$CALLERS_TIMEOUT" \
			unshare --mount --propagation private \
			sh -c 'mount -t tmpfs berth-test-blobcache /var/lib && exec "$@"' sh \
			podman import -q - "$PM_IMAGE" >/dev/null 3>&- ||
		fail "podman import of the busybox rootfs failed"
}

podman_teardown() {
	local rc=0 ids id m
	[ -d "$PM_DIR" ] || return 0
	pm rm --all --force --time 0 >/dev/null 2>&1 || true

	# What podman's rm should have made the runtime remove.
	ids=$(runtime_states "$BERTH_RUNTIME")
	[ -z "$ids" ] || {
		echo "teardown: $BERTH_RUNTIME still lists containers after podman rm:" $ids >&2
		for id in $ids; do "$BERTH_RUNTIME" delete --force "$id" >/dev/null 2>&1; done
		rc=1
	}
	ids=$(runtime_states "$REF_RUNTIME")
	for id in $ids; do "$REF_RUNTIME" delete --force "$id" >/dev/null 2>&1; done
	ids=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path "*/$PM_CGROUP_PARENT/libpod-*" 2>/dev/null)
	[ -z "$ids" ] || {
		echo "teardown: container cgroups left behind:" $ids >&2
		rc=1
	}

	pm system reset --force >/dev/null 2>&1 || true
	# conmon's cgroup (and the parent) are podman's to leave behind.
	rm_cgroups "$PM_CGROUP_PARENT"
	# Storage's own mounts (the overlay home) are podman's to leave; the
	# ones under containers are checked by callers_teardown.
	for m in $(mounts_under "$PM_DIR/storage/overlay" | grep -v '/merged$' | sort -r); do
		umount "$m" 2>/dev/null || true
	done
	return $rc
}

# ---- containerd ---------------------------------------------------------------------

CD_IMAGE=docker.io/library/busybox:berthtest

# ctr ARGS... against this test's containerd and namespace.
cctr() {
	timeout -k 5 "$CALLERS_TIMEOUT" ctr -a "$CD_SOCK" -n "$CD_NS" "$@" 3>&-
}

# cctr_run RUNTIME ARGS...: `ctr run` through the runc shim with the given
# runtime binary and this test's runtime root.
cctr_run() {
	local rt=$1
	shift
	cctr run --runc-binary "$rt" --runc-root "$CD_DIR/runc-root" --fifo-dir "$CD_DIR/fifo" \
		--snapshotter "$CD_SNAPSHOTTER" "$@"
}

# ctr_task_is ID STATUS: `ctr task ls` shows the task with STATUS.
ctr_task_is() {
	cctr task ls 2>/dev/null | grep -Eq "^$1 +[0-9]+ +$2\$"
}

ctr_is_running() {
	ctr_task_is "$1" RUNNING
}

# ctr_id [TAG]: a container id, remembered for the leak checks.
ctr_id() {
	local n id
	n=$(wc -l <"$CD_DIR/ids")
	id=${1:-c}$n
	echo "$id" >>"$CD_DIR/ids"
	echo "$id"
}

# mk_oci_archive ROOTFS OUT NAME: a single-layer OCI image archive for the
# host's architecture, named NAME for `ctr images import`.
mk_oci_archive() {
	local rootfs=$1 out=$2 name=$3 d arch l c m
	d=$(mktemp -d "$T/oci.XXXXXX")
	case $(uname -m) in
	x86_64) arch=amd64 ;;
	aarch64) arch=arm64 ;;
	armv7l) arch=arm ;;
	i?86) arch=386 ;;
	*) arch=$(uname -m) ;;
	esac
	mkdir -p "$d/blobs/sha256"
	blob() { # FILE: moved to its digest; prints "sha256:HEX SIZE"
		local h s
		h=$(sha256sum "$1" | cut -d' ' -f1)
		s=$(stat -c %s "$1")
		mv "$1" "$d/blobs/sha256/$h"
		echo "sha256:$h $s"
	}
	tar --sort=name --numeric-owner -C "$rootfs" -cf "$d/layer" . || return 1
	l=$(blob "$d/layer")
	jq -cn --arg arch "$arch" --arg l "${l% *}" '{architecture: $arch, os: "linux",
		config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"]},
		rootfs: {type: "layers", diff_ids: [$l]}}' >"$d/config"
	c=$(blob "$d/config")
	jq -cn --arg c "${c% *}" --argjson cs "${c#* }" --arg l "${l% *}" --argjson ls "${l#* }" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
		layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' >"$d/manifest"
	m=$(blob "$d/manifest")
	jq -cn --arg m "${m% *}" --argjson ms "${m#* }" --arg n "$name" --arg arch "$arch" '{
		schemaVersion: 2,
		manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
			platform: {architecture: $arch, os: "linux"},
			annotations: {"io.containerd.image.name": $n, "org.opencontainers.image.ref.name": $n}}]}' \
		>"$d/index.json"
	echo '{"imageLayoutVersion": "1.0.0"}' >"$d/oci-layout"
	tar -C "$d" -cf "$out" oci-layout index.json blobs && rm -rf "$d"
}

containerd_setup() {
	local b
	for b in containerd ctr containerd-shim-runc-v2; do
		command -v $b >/dev/null || skip "containerd is not installed ($b is missing)"
	done
	CD_DIR=$T/containerd
	CD_SOCK=$CD_DIR/c.sock
	CD_NS=berthtest-$CALLERS_TAG-$BATS_SUITE_TEST_NUMBER
	[ ${#CD_SOCK} -lt 100 ] || fail "socket path too long for a unix socket: $CD_SOCK" || return 1
	mkdir -p "$CD_DIR/fifo"
	: >"$CD_DIR/ids"
	CD_SNAPSHOTTER=overlayfs
	[ "$(stat -f -c %T "$T")" = overlayfs ] && CD_SNAPSHOTTER=native
	# The shims' sockets go to /run/containerd/s whatever the config says;
	# the directories are removed again if this test made them.
	CD_MADE_RUNDIR=
	[ -e /run/containerd ] || CD_MADE_RUNDIR=1

	cat >"$CD_DIR/config.toml" <<-EOF
		version = 2
		root = "$CD_DIR/root"
		state = "$CD_DIR/state"
		temp = "$CD_DIR/tmp"
		# cri: needs CNI; opt: writes /opt/containerd; the rest: unused here.
		disabled_plugins = [
		  "io.containerd.grpc.v1.cri",
		  "io.containerd.internal.v1.opt",
		  "io.containerd.internal.v1.tracing",
		  "io.containerd.tracing.processor.v1.otlp",
		  "io.containerd.snapshotter.v1.aufs",
		  "io.containerd.snapshotter.v1.btrfs",
		  "io.containerd.snapshotter.v1.devmapper",
		  "io.containerd.snapshotter.v1.zfs",
		]

		[grpc]
		  address = "$CD_SOCK"

		[ttrpc]
		  address = "$CD_SOCK.ttrpc"
	EOF
	containerd --config "$CD_DIR/config.toml" >"$CD_DIR/containerd.log" 2>&1 3>&- &
	CD_PID=$!
	on_teardown containerd_teardown
	retry 20 cctr version >/dev/null 2>&1 || {
		tail -20 "$CD_DIR/containerd.log" >&2
		fail "containerd did not come up on $CD_SOCK"
		return 1
	}
	mk_oci_archive "$CALLERS_ROOTFS" "$CD_DIR/busybox.tar" "$CD_IMAGE" ||
		fail "could not make the OCI archive" || return 1
	cctr images import --snapshotter "$CD_SNAPSHOTTER" "$CD_DIR/busybox.tar" >/dev/null ||
		fail "ctr images import failed" || return 1
}

# The shim's socket for a container: /run/containerd/s/sha256(ADDRESS/NS/ID).
shim_socket() {
	echo "/run/containerd/s/$(printf '%s' "$CD_SOCK/$CD_NS/$1" | sha256sum | cut -d' ' -f1)"
}

containerd_teardown() {
	local rc=0 id ids i
	[ -n "${CD_PID:-}" ] || return 0
	if kill -0 "$CD_PID" 2>/dev/null; then
		for id in $(cctr task ls -q 2>/dev/null); do
			cctr task kill --signal SIGKILL "$id" >/dev/null 2>&1
		done
		for id in $(cctr task ls -q 2>/dev/null); do
			for i in $(seq 50); do
				cctr task delete "$id" >/dev/null 2>&1 && break
				sleep 0.1
			done
		done
		for id in $(cctr containers ls -q 2>/dev/null); do
			cctr containers rm "$id" >/dev/null 2>&1
		done
		kill "$CD_PID" 2>/dev/null
	fi
	for i in $(seq 100); do
		kill -0 "$CD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$CD_PID" 2>/dev/null && {
		echo "teardown: containerd ignored SIGTERM" >&2
		rc=1
	}
	wait "$CD_PID" 2>/dev/null

	ids=$(runtime_states "$BERTH_RUNTIME" "$CD_DIR/runc-root/$CD_NS")
	[ -z "$ids" ] || {
		echo "teardown: $BERTH_RUNTIME still lists containers after ctr task delete:" $ids >&2
		for id in $ids; do
			"$BERTH_RUNTIME" --root "$CD_DIR/runc-root/$CD_NS" delete --force "$id" >/dev/null 2>&1
		done
		rc=1
	}
	ids=$(runtime_states "$REF_RUNTIME" "$CD_DIR/runc-root/$CD_NS")
	for id in $ids; do
		"$REF_RUNTIME" --root "$CD_DIR/runc-root/$CD_NS" delete --force "$id" >/dev/null 2>&1
	done
	for id in $(cat "$CD_DIR/ids"); do
		ids=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path "*/$CD_NS/$id" 2>/dev/null)
		[ -z "$ids" ] || {
			echo "teardown: container cgroups left behind:" $ids >&2
			rc=1
		}
		if [ -e "$(shim_socket "$id")" ]; then
			echo "teardown: shim socket left behind for $id: $(shim_socket "$id")" >&2
			rm -f "$(shim_socket "$id")"
			rc=1
		fi
	done
	# The namespace's cgroup is containerd's to leave behind.
	rm_cgroups "$CD_NS"
	if [ -n "$CD_MADE_RUNDIR" ]; then
		rmdir /run/containerd/s /run/containerd/fifo /run/containerd 2>/dev/null || true
	fi
	return $rc
}
