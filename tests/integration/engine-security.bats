#!/usr/bin/env bats
# The engine's security defaults (src/engine/security.c) as a user sees them
# in a running container: Docker's capability set, the default seccomp
# profile, masked and read-only /proc paths, no-new-privileges, --privileged.
# berth-security-apply (tests/helper) applies them to a `berth-runtime spec`
# bundle as `berth run` will, then the runtime under test runs it. Where
# podman can run the same thing, the capabilities are compared with it.

load helpers

: "${BERTH_SECURITY_APPLY:=$BERTH_SRC_DIR/build/tests/helper/berth-security-apply}"

# Docker's default CapEff (docker run busybox grep CapEff /proc/self/status).
DOCKER_CAPS=00000000a80425fb

# secure [OPTIONS...]: apply the defaults (and options) to $BUNDLE.
secure() {
	[ -x "$BERTH_SECURITY_APPLY" ] || skip "berth-security-apply not built"
	"$BERTH_SECURITY_APPLY" "$BUNDLE/config.json" "$@"
}

# status_field NAME: NAME's value in the container's /proc/self/status.
status_field() {
	run_ctr grep "^$1:" /proc/self/status
	assert_success
	awk '{ print $2 }' <<<"$output"
}

# What --privileged gives: the capabilities of the kernel that the engine's
# own bounding set holds (all of them on a normal host).
all_caps_hex() {
	awk '/^CapBnd:/ { print $2 }' /proc/self/status
}

@test "security: default capabilities are Docker's, nothing inheritable or ambient" {
	secure
	assert_eq "$(status_field CapEff)" "$DOCKER_CAPS" CapEff
	assert_eq "$(status_field CapBnd)" "$DOCKER_CAPS" CapBnd
	assert_eq "$(status_field CapPrm)" "$DOCKER_CAPS" CapPrm
	assert_eq "$(status_field CapInh)" 0000000000000000 CapInh
	assert_eq "$(status_field CapAmb)" 0000000000000000 CapAmb
	assert_eq "$(status_field NoNewPrivs)" 0 NoNewPrivs
	assert_eq "$(status_field Seccomp)" 2 "Seccomp (filter mode)"
}

@test "security: by default mount and new namespaces are refused" {
	secure
	run_ctr sh -c 'mkdir -p /tmp/m && mount -t tmpfs none /tmp/m'
	assert_failure
	# busybox words EPERM from mount(2) as "permission denied (are you root?)".
	assert_contains "$stderr" "ermission denied"
	run_ctr unshare -U true
	assert_failure
	assert_contains "$stderr" "Operation not permitted"
	run_ctr unshare -m true
	assert_failure
	assert_contains "$stderr" "Operation not permitted"
	run_ctr unshare -n true
	assert_failure
	# Plain forks still work (clone without CLONE_NEW*).
	run_ctr sh -c 'sh -c "echo child" & wait'
	assert_success
	assert_eq "$output" child
}

# The first of Docker's masked /proc files this kernel has (kcore and
# sched_debug are configuration-dependent).
masked_proc_file() {
	local p
	for p in /proc/kcore /proc/keys /proc/timer_list /proc/interrupts /proc/sched_debug; do
		[ -e "$p" ] && echo "$p" && return 0
	done
	return 1
}

@test "security: masked paths read as nothing, read-only paths refuse writes" {
	local f
	f=$(masked_proc_file) || skip "none of the masked /proc files exists on this kernel"
	secure
	run_ctr sh -c "wc -c <$f; stat -c %t:%T $f; ls -A /sys/firmware | wc -l"
	assert_success
	assert_eq "$output" "0
1:3
0" "$f is /dev/null, /sys/firmware empty"
	run_ctr cat /proc/sys/kernel/hostname
	assert_success
	run_ctr sh -c 'echo x >/proc/sys/kernel/domainname'
	assert_failure
	assert_contains "$stderr" "Read-only file system"
}

@test "security: --cap-add SYS_ADMIN allows mount and unshare" {
	secure --cap-add SYS_ADMIN
	assert_eq "$(status_field CapEff)" 00000000a82425fb CapEff
	run_ctr sh -c 'mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && grep " /tmp/m " /proc/mounts'
	assert_success
	assert_contains "$output" "tmpfs"
	run_ctr unshare -m true
	assert_success
}

@test "security: --cap-drop ALL --cap-add chown leaves only CAP_CHOWN" {
	secure --cap-drop ALL --cap-add chown
	assert_eq "$(status_field CapEff)" 0000000000000001 CapEff
	run_ctr chroot / true
	assert_failure
}

@test "security: --privileged gives every capability, no filter, no masks" {
	secure --privileged
	assert_eq "$(status_field CapEff)" "$(all_caps_hex)" CapEff
	assert_eq "$(status_field Seccomp)" 0 Seccomp
	run_ctr sh -c 'mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && echo mounted'
	assert_success
	assert_eq "$output" mounted
	local f
	if f=$(masked_proc_file); then
		run_ctr sh -c "test -c $f && echo masked || echo real"
		assert_eq "$output" real
	fi
}

@test "security: seccomp=unconfined removes the filter, capabilities stay" {
	secure --seccomp unconfined
	assert_eq "$(status_field Seccomp)" 0 Seccomp
	assert_eq "$(status_field CapEff)" "$DOCKER_CAPS" CapEff
	# Without the filter only the capability check stops mount (EPERM too).
	run_ctr sh -c 'mkdir -p /tmp/m && mount -t tmpfs none /tmp/m'
	assert_failure
	# unshare(CLONE_NEWUSER) needs no capability: only the filter refused it.
	run_ctr unshare -U true
	assert_success
}

@test "security: seccomp=FILE replaces the default profile" {
	cat >"$BATS_TEST_TMPDIR/p.json" <<-'JSON'
	{ "defaultAction": "allow",
	  "groups": [ { "name": "no mkdir", "why": "test", "action": "errno", "errno": "EACCES",
	                "syscalls": ["mkdir", "mkdirat"] } ] }
	JSON
	secure --seccomp "$BATS_TEST_TMPDIR/p.json"
	run_ctr mkdir /tmp/d
	assert_failure
	assert_contains "$stderr" "Permission denied"
	# The default profile would have refused this; this one allows everything else.
	run_ctr unshare -m true
	assert_failure
	assert_not_contains "$stderr" "Permission denied"
}

@test "security: Docker-format profile files work too" {
	[ -r /usr/share/containers/seccomp.json ] || skip "no containers-common profile"
	secure --seccomp /usr/share/containers/seccomp.json
	assert_eq "$(status_field Seccomp)" 2 Seccomp
	run_ctr sh -c 'echo ok'
	assert_eq "$output" ok
}

@test "security: no-new-privileges" {
	secure --no-new-privileges
	assert_eq "$(status_field NoNewPrivs)" 1 NoNewPrivs
}

@test "security: bad options are named in the error" {
	[ -x "$BERTH_SECURITY_APPLY" ] || skip "berth-security-apply not built"
	run "$BERTH_SECURITY_APPLY" "$BUNDLE/config.json" --cap-add CAP_FOO
	assert_status 125
	assert_eq "$output" "Error: --cap-add CAP_FOO: unknown capability"
	run "$BERTH_SECURITY_APPLY" "$BUNDLE/config.json" --seccomp /nonexistent.json
	assert_status 125
	assert_contains "$output" "Error: --security-opt seccomp=/nonexistent.json: "
}

# ---- podman --------------------------------------------------------------------------

# podman_caps ARGS...: CapEff of `podman run ARGS` on the busybox rootfs,
# with all of podman's state under the test's directory, runc as its
# runtime (crun refuses this host's hybrid cgroup layout), the cgroups
# under their own parent and the rlimits within this host's hard limits.
podman_caps() {
	local p=$BATS_TEST_TMPDIR/podman hn hu
	hn=$(ulimit -Hn)
	hu=$(ulimit -Hu)
	[ "$hn" = unlimited ] && hn=1048576
	{ [ "$hu" = unlimited ] || [ "$hu" -gt 32768 ]; } && hu=32768
	timeout 120 podman --root "$p/root" --runroot "$p/run" --cgroup-manager cgroupfs \
		--events-backend none --storage-driver vfs --runtime "$REF_RUNTIME" \
		run --rm --network none --cgroup-parent "/$PODMAN_CGROUP" \
		--ulimit "nofile=$hn:$hn" --ulimit "nproc=$hu:$hu" "$@" \
		berth-sec-test grep ^CapEff: /proc/self/status | awk '{ print $2 }'
}

podman_cleanup() {
	local p=$BATS_TEST_TMPDIR/podman d
	podman --root "$p/root" --runroot "$p/run" --storage-driver vfs rmi -af >/dev/null 2>&1
	rm -rf "$p"
	for d in /sys/fs/cgroup/"$PODMAN_CGROUP" /sys/fs/cgroup/*/"$PODMAN_CGROUP"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 0
}

podman_setup() {
	command -v podman >/dev/null || skip "podman not installed"
	[ -x "$REF_RUNTIME" ] || skip "podman runs with $REF_RUNTIME here, which is missing"
	local p=$BATS_TEST_TMPDIR/podman
	PODMAN_CGROUP=berthsec-$RUN_TAG-$BATS_SUITE_TEST_NUMBER
	mkdir -p "$p"
	defer podman_cleanup
	tar -C "$ROOTFS_CACHE" -cf "$p/rootfs.tar" . || fail "tar the rootfs"
	timeout 120 podman --root "$p/root" --runroot "$p/run" --storage-driver vfs \
		import "$p/rootfs.tar" berth-sec-test >/dev/null 2>"$p/import.err" ||
		skip "podman cannot import here: $(tail -1 "$p/import.err")"
	[ -n "$(podman_caps)" ] || skip "podman cannot run containers here"
}

@test "security: capabilities match podman's for the same requests" {
	podman_setup
	# podman's own default set is smaller than Docker's; asked for Docker's, it agrees.
	local docker_set=CHOWN,DAC_OVERRIDE,FSETID,FOWNER,MKNOD,NET_RAW,SETGID,SETUID,SETFCAP,SETPCAP,NET_BIND_SERVICE,SYS_CHROOT,KILL,AUDIT_WRITE
	secure
	assert_eq "$(status_field CapEff)" "$(podman_caps --cap-drop all --cap-add "$docker_set")" "default vs podman"
	make_bundle "$BATS_TEST_TMPDIR/b2" && BUNDLE=$BATS_TEST_TMPDIR/b2
	secure --privileged
	assert_eq "$(status_field CapEff)" "$(podman_caps --privileged)" "--privileged vs podman"
	make_bundle "$BATS_TEST_TMPDIR/b3" && BUNDLE=$BATS_TEST_TMPDIR/b3
	secure --cap-add ALL --cap-drop NET_RAW
	assert_eq "$(status_field CapEff)" "$(podman_caps --cap-add all --cap-drop NET_RAW)" "--cap-add ALL --cap-drop NET_RAW vs podman"
}
