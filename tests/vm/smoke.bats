#!/usr/bin/env bats
# The cgroup v2 VM itself (scripts/check-cgroup2.sh, `make check-cgroup2`):
# the machine is pure cgroup v2 as the cgroup suites expect, and the runtime
# under test runs containers in it. These only hold inside that VM: the host
# this project is developed on is hybrid v1/v2.

load ../integration/helpers

@test "/sys/fs/cgroup is the unified hierarchy and no v1 hierarchy is mounted" {
	assert_eq "$(stat -f -c %T /sys/fs/cgroup)" cgroup2fs "filesystem at /sys/fs/cgroup"
	run findmnt -n -t cgroup
	assert_eq "$output" "" "cgroup v1 mounts"
	# cgroup_no_v1=all: one line, hierarchy 0, for every process.
	run cat /proc/self/cgroup
	assert_success
	[[ "$output" =~ ^0::/[^$'\n']*$ ]] || fail "/proc/self/cgroup is not v2-only:" "$output"
}

@test "/ is a shared mount, as systemd makes it" {
	run findmnt -n -o PROPAGATION /
	assert_success
	assert_eq "$output" shared "propagation of /"
}

@test "memory and pids are available and enabled for the root's children" {
	local controllers subtree c
	read -r controllers </sys/fs/cgroup/cgroup.controllers
	read -r subtree </sys/fs/cgroup/cgroup.subtree_control
	for c in memory pids; do
		assert_contains " $controllers " " $c " "cgroup.controllers"
		assert_contains " $subtree " " $c " "cgroup.subtree_control"
	done
	# A child the test makes gets the controllers' interface files.
	local cg=/sys/fs/cgroup/bt-$RUN_TAG-smoke
	mkdir "$cg"
	defer "rmdir $cg"
	[ -f "$cg/memory.max" ] || fail "no memory.max in a new child cgroup"
	[ -f "$cg/pids.max" ] || fail "no pids.max in a new child cgroup"
}

@test "the runtime runs a busybox container and passes its output and exit status" {
	run_ctr /bin/echo "hello from cgroup v2"
	assert_success
	assert_eq "$output" "hello from cgroup v2" "container output"

	run_ctr /bin/sh -c 'exit 7'
	assert_status 7
}

@test "a running container's process is in a cgroup of its own with memory and pids" {
	requires_helper
	local id pid cg
	id=$(new_id)
	start_pause_ctr "$id"
	pid=$(ctr_pid "$id")
	cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
	[ -n "$cg" ] && [ "$cg" != / ] || fail "container pid $pid is in cgroup '$cg'"
	grep -qx "$pid" "/sys/fs/cgroup$cg/cgroup.procs" || fail "pid $pid not in /sys/fs/cgroup$cg/cgroup.procs"
	[ -f "/sys/fs/cgroup$cg/memory.max" ] || fail "no memory controller in $cg"
	[ -f "/sys/fs/cgroup$cg/pids.max" ] || fail "no pids controller in $cg"
}
