#!/usr/bin/env bats
# The systemd cgroup driver: --systemd-cgroup puts the container in a
# transient scope that systemd makes and removes. Needs a running systemd
# (the VM of `make check-cgroup2` boots one); elsewhere every test skips.

load helpers

# The driver's D-Bus helper is built beside berth-runtime.
: "${BERTH_CGROUP_SYSTEMD:=$(dirname "$BERTH_RUNTIME")/berth-cgroup-systemd}"
export BERTH_CGROUP_SYSTEMD

requires_systemd() {
	[ -d /run/systemd/system ] || skip "systemd is not running here"
	is_berth || skip "berth-only: the driver under test"
}

# The scope's directory in the hierarchy that holds pids.
scope_dir() { # SLICE UNIT
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		echo "/sys/fs/cgroup/$1/$2"
	else
		echo "/sys/fs/cgroup/pids/$1/$2"
	fi
}

sd_runtime() {
	runtime --systemd-cgroup "$@"
}

@test "systemd: the container runs in its own transient scope, with its limits" {
	requires_systemd
	id=$(new_id)
	set_cfg '.linux.cgroupsPath = $p | .linux.resources.pids = {limit: 42}
		| .linux.resources.memory = {limit: 67108864}' --arg p "system.slice:berth-test:$id"
	set_args /bin/sleep 1000
	sd_runtime run -d --bundle "$BUNDLE" "$id" </dev/null >/dev/null
	pid=$(ctr_pid "$id")
	dir=$(scope_dir system.slice "berth-test-$id.scope")
	[ -d "$dir" ] || fail "no scope directory $dir"
	grep -qx "$pid" "$dir/cgroup.procs" || fail "init $pid is not in the scope"
	grep -q "berth-test-$id.scope" "/proc/$pid/cgroup" || fail "/proc/$pid/cgroup: $(cat "/proc/$pid/cgroup")"
	assert_eq "$(cat "$dir/pids.max")" 42 "pids.max of the scope"
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		assert_eq "$(cat "$dir/memory.max")" 67108864 "memory.max of the scope"
	fi
	# ps, update and pause work on the scope like on any cgroup.
	run sd_runtime ps --format json "$id"
	assert_eq "$(jq -c . <<<"$output")" "[$pid]" ps
	sd_runtime update --pids-limit 21 "$id"
	assert_eq "$(cat "$dir/pids.max")" 21 "pids.max after update"
	sd_runtime pause "$id"
	assert_eq "$(ctr_status "$id")" paused status
	sd_runtime resume "$id"
	# delete stops the unit: systemd removes the scope.
	sd_runtime delete --force "$id"
	retry 10 test ! -e "$dir" || fail "scope $dir still there after delete"
}

@test "systemd: without cgroupsPath the scope is berth-ID.scope in system.slice" {
	requires_systemd
	id=$(new_id)
	set_args /bin/sleep 1000
	sd_runtime run -d --bundle "$BUNDLE" "$id" </dev/null >/dev/null
	dir=$(scope_dir system.slice "berth-$id.scope")
	[ -d "$dir" ] || fail "no scope directory $dir"
	# A foreground run ends with its scope gone too.
	sd_runtime delete --force "$id"
	id2=$(new_id)
	set_args /bin/true
	run sd_runtime run --bundle "$BUNDLE" "$id2"
	assert_success
	retry 10 test ! -e "$(scope_dir system.slice "berth-$id2.scope")" || fail "scope of a finished run left"
}

@test "systemd: a cgroupsPath that is not slice:prefix:name is refused, and nothing is left" {
	requires_systemd
	set_cfg '.linux.cgroupsPath = "/not/systemd"'
	run_files sd_runtime run --bundle "$BUNDLE" "$(new_id)"
	assert_failure
	assert_contains "$stderr" "slice:prefix:name" stderr
	[ -z "$(runtime list -q)" ] || fail "containers left: $(runtime list -q)"
}
