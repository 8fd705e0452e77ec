#!/usr/bin/env bats
# The systemd cgroup driver: --systemd-cgroup puts the container in a
# transient scope that systemd makes and removes. Needs a running systemd
# (the second boot of `make check-cgroup2` has one as PID 1); elsewhere
# every test skips.

load helpers

# The driver's D-Bus helper is built beside berth-runtime.
: "${BERTH_CGROUP_SYSTEMD:=$(dirname "$BERTH_RUNTIME")/berth-cgroup-systemd}"
export BERTH_CGROUP_SYSTEMD

requires_systemd() {
	[ -d /run/systemd/system ] || skip "systemd is not running here"
	is_berth || skip "berth-only: the driver under test"
	command -v systemctl >/dev/null || skip "no systemctl to ask systemd"
}

# The scope's directory in the hierarchy that holds pids.
scope_dir() { # SLICE-PATH UNIT
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		echo "/sys/fs/cgroup/$1/$2"
	else
		echo "/sys/fs/cgroup/pids/$1/$2"
	fi
}

cg_v2() {
	[ -e /sys/fs/cgroup/cgroup.controllers ]
}

sd_runtime() {
	runtime --systemd-cgroup "$@"
}

# unit_prop UNIT PROPERTY: the property as systemd reports it.
unit_prop() {
	systemctl show -p "$2" --value "$1"
}

# The unit is unloaded: stopped and garbage-collected, not left failed.
unit_gone() {
	[ "$(unit_prop "$1" LoadState)" = not-found ]
}

@test "systemd: the container runs in its own transient scope, with its limits" {
	requires_systemd
	id=$(new_id)
	unit=berth-test-$id.scope
	set_cfg '.linux.cgroupsPath = $p | .linux.resources.pids = {limit: 42}
		| .linux.resources.memory = {limit: 67108864}' --arg p "system.slice:berth-test:$id"
	set_args /bin/sleep 1000
	sd_runtime run -d --bundle "$BUNDLE" "$id" </dev/null >/dev/null
	pid=$(ctr_pid "$id")
	dir=$(scope_dir system.slice "$unit")
	[ -d "$dir" ] || fail "no scope directory $dir"
	grep -qx "$pid" "$dir/cgroup.procs" || fail "init $pid is not in the scope"
	grep -q "$unit" "/proc/$pid/cgroup" || fail "/proc/$pid/cgroup: $(cat "/proc/$pid/cgroup")"
	assert_eq "$(unit_prop "$unit" ActiveState)" active "ActiveState of $unit"
	# Delegated: the runtime writes the scope's files; systemd knows the limits.
	assert_eq "$(unit_prop "$unit" Delegate)" yes "Delegate of $unit"
	assert_eq "$(unit_prop "$unit" TasksMax)" 42 "TasksMax of $unit"
	assert_eq "$(cat "$dir/pids.max")" 42 "pids.max of the scope"
	if cg_v2; then
		assert_eq "$(unit_prop "$unit" MemoryMax)" 67108864 "MemoryMax of $unit"
		assert_eq "$(cat "$dir/memory.max")" 67108864 "memory.max of the scope"
	fi
	# ps, update and pause work on the scope like on any cgroup.
	run sd_runtime ps --format json "$id"
	assert_eq "$(jq -c . <<<"$output")" "[$pid]" ps
	sd_runtime update --pids-limit 21 "$id"
	assert_eq "$(cat "$dir/pids.max")" 21 "pids.max after update"
	sd_runtime pause "$id"
	assert_eq "$(ctr_status "$id")" paused status
	if cg_v2; then
		grep -qx "frozen 1" "$dir/cgroup.events" || fail "scope not frozen: $(cat "$dir/cgroup.events")"
	fi
	sd_runtime resume "$id"
	assert_eq "$(ctr_status "$id")" running "status after resume"
	# delete stops the unit: systemd removes the scope and forgets the unit.
	sd_runtime delete --force "$id"
	retry 10 test ! -e "$dir" || fail "scope $dir still there after delete"
	retry 10 unit_gone "$unit" || fail "$unit still loaded after delete: $(unit_prop "$unit" ActiveState)"
}

@test "systemd: limits outlast a daemon-reload, in a slice systemd makes on demand" {
	requires_systemd
	requires_helper
	cg_v2 || skip "the limits systemd re-applies are checked on cgroup v2"
	id=$(new_id)
	unit=berth-$id.scope
	# berth-test.slice is berth.slice/berth-test.slice; neither has a unit file.
	defer "systemctl stop berth-test.slice berth.slice 2>/dev/null"
	set_cfg '.linux.cgroupsPath = $p | .linux.resources.pids = {limit: 42}
		| .linux.resources.memory = {limit: 67108864, reservation: 33554432, swap: 134217728}
		| .linux.resources.cpu = {shares: 512, quota: 25000, period: 50000, cpus: "0"}
		| .linux.resources.blockIO = {weight: 300}
		| .linux.resources.unified = {"memory.high": "50331648"}
		| .linux.devices = [{path: "/dev/kmsg", type: "c", major: 1, minor: 11, fileMode: 420}]' \
		--arg p "berth-test.slice:berth:$id"
	set_helper_args pause
	sd_runtime run -d --bundle "$BUNDLE" "$id" </dev/null >/dev/null
	wait_status "$id" running
	dir=/sys/fs/cgroup/berth.slice/berth-test.slice/$unit
	[ -d "$dir" ] || fail "no scope directory $dir"
	files="pids.max memory.max memory.low memory.swap.max memory.high cpu.weight cpu.max cpuset.cpus"
	# io.weight needs the iocost controller (the VM's kernel has it).
	[ -e "$dir/io.weight" ] && files+=" io.weight"
	snapshot() {
		local f
		for f in $files; do echo "$f=$(cat "$dir/$f")"; done
	}
	before=$(snapshot)
	for want in pids.max=42 memory.max=67108864 memory.low=33554432 memory.swap.max=67108864 \
		memory.high=50331648 "cpu.max=25000 50000" cpuset.cpus=0 cpu.weight=59; do
		grep -qxF "$want" <<<"$before" || fail "after create, not $want:" "$before"
	done
	[ ! -e "$dir/io.weight" ] || grep -qxF "io.weight=default 2930" <<<"$before" ||
		fail "after create, io.weight is not blockIO.weight 300 converted:" "$before"
	run sd_runtime exec "$id" /bin/berth-testhelper open /dev/kmsg w
	assert_eq "$output" EPERM "open of a denied device"

	# systemd writes every attribute of the scope again: its own values.
	systemctl daemon-reload
	assert_eq "$(snapshot)" "$before" "the scope's limits after a daemon-reload"
	run sd_runtime exec "$id" /bin/berth-testhelper open /dev/kmsg w
	assert_eq "$output" EPERM "open of a denied device after a daemon-reload"
	run sd_runtime exec "$id" /bin/berth-testhelper open /dev/null rw
	assert_eq "$output" ok "open of /dev/null after a daemon-reload"

	# The helper's `set` changes what systemd keeps.
	"$BERTH_CGROUP_SYSTEMD" set "$unit" TasksMax=21 MemoryMax=infinity
	systemctl daemon-reload
	assert_eq "$(cat "$dir/pids.max")" 21 "pids.max after set and daemon-reload"
	assert_eq "$(cat "$dir/memory.max")" max "memory.max after set and daemon-reload"
	run "$BERTH_CGROUP_SYSTEMD" set "$unit" Slice=foo.slice
	assert_failure
	assert_contains "$output" "not one this program sets" "set of an unknown property"

	# update tells systemd too: a reload keeps what update wrote, and a
	# quota without a period keeps the period.
	sd_runtime update --pids-limit 17 --memory 48m --cpu-quota 10000 "$id"
	systemctl daemon-reload
	assert_eq "$(cat "$dir/pids.max")" 17 "pids.max after update and daemon-reload"
	assert_eq "$(cat "$dir/memory.max")" 50331648 "memory.max after update and daemon-reload"
	assert_eq "$(cat "$dir/cpu.max")" "10000 50000" "cpu.max after update and daemon-reload"

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
	sd_runtime delete --force "$id"
	# A foreground run is in its scope while it runs (seen without a cgroup
	# namespace), and ends with the scope gone too.
	id2=$(new_id)
	set_cfg '.linux.namespaces |= map(select(.type != "cgroup"))'
	set_args /bin/cat /proc/self/cgroup
	run_files sd_runtime run --bundle "$BUNDLE" "$id2"
	assert_success
	if cg_v2; then
		assert_eq "$output" "0::/system.slice/berth-$id2.scope" "/proc/self/cgroup in the container"
	else
		assert_contains "$output" ":pids:/system.slice/berth-$id2.scope" "/proc/self/cgroup in the container"
	fi
	retry 10 test ! -e "$(scope_dir system.slice "berth-$id2.scope")" || fail "scope of a finished run left"
	retry 10 unit_gone "berth-$id2.scope" || fail "berth-$id2.scope still loaded after the run"
}

@test "systemd: a cgroupsPath that is not slice:prefix:name is refused, and nothing is left" {
	requires_systemd
	set_cfg '.linux.cgroupsPath = "/not/systemd"'
	run_files sd_runtime run --bundle "$BUNDLE" "$(new_id)"
	assert_failure
	assert_contains "$stderr" "slice:prefix:name" stderr
	[ -z "$(runtime list -q)" ] || fail "containers left: $(runtime list -q)"
}

@test "systemd: features reports the systemd driver, not a user instance's" {
	skip_unless_berth "the driver under test"
	run --separate-stderr "$BERTH_RUNTIME" features
	assert_success
	assert_eq "$(jq -c '.linux.cgroup | {systemd, systemdUser}' <<<"$output")" \
		'{"systemd":true,"systemdUser":false}' "features .linux.cgroup"
}
