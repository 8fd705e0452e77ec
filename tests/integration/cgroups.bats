#!/usr/bin/env bats
# cgroups: linux.resources applied and enforced, update, pause/resume,
# events, and every cgroup removed on delete. Written once for both
# layouts: on this repository's CI host it runs against cgroup v1 (hybrid),
# and `make check-cgroup2` runs the same file in a VM on pure cgroup v2.

load helpers

cg_v2() {
	[ -e /sys/fs/cgroup/cgroup.controllers ]
}

# own_cgroup CONTROLLER: this shell's cgroup in that controller's hierarchy
# ("" for v2), from /proc/self/cgroup. The runtime, started from here, has
# the same; a container without cgroupsPath goes below it (runc's rule).
own_cgroup() {
	local own
	if cg_v2; then
		# A systemd .scope holds processes: the runtime goes to its slice.
		own=$(sed -n 's/^0:://p' /proc/self/cgroup)
		case $own in */*.scope) own=${own%/*} ;; esac
		echo "$own"
	else
		awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup
	fi
}

# cg_dir CONTROLLER CGROUP: the directory of CGROUP for CONTROLLER; an
# absolute CGROUP from the hierarchy's root, a relative one (a container id)
# from our own cgroup.
cg_dir() {
	local base=/sys/fs/cgroup own=
	cg_v2 || base=/sys/fs/cgroup/$1
	case $2 in
	/*) echo "$base$2" ;;
	*)
		own=$(own_cgroup "$1")
		echo "$base${own%/}/$2"
		;;
	esac
}

# cg_cat CONTROLLER CGROUP FILE_V1 FILE_V2
cg_cat() {
	if cg_v2; then
		cat "$(cg_dir "$1" "$2")/$4"
	else
		cat "$(cg_dir "$1" "$2")/$3"
	fi
}

requires_controller() {
	if cg_v2; then
		grep -qw "$1" /sys/fs/cgroup/cgroup.controllers || skip "no $1 controller"
	else
		[ -d "/sys/fs/cgroup/$1" ] || skip "no $1 controller mounted"
	fi
}

# forks_refused CGROUP, pids_exactly CGROUP N: for retry, which needs a command it
# can run again (a $(...) in its arguments is read once).
forks_refused() {
	[ "$(awk '$1 == "max" { print $2 }' "$(cg_dir pids "$1")/pids.events")" -gt 0 ]
}
pids_exactly() {
	[ "$(cat "$(cg_dir pids "$1")/pids.current")" -eq "$2" ]
}
procs_exactly() {
	[ "$(wc -l <"$(cg_dir pids "$1")/cgroup.procs")" -eq "$2" ]
}

# The first real block device, as MAJOR:MINOR.
block_device() {
	local d
	for d in /sys/block/*; do
		case ${d##*/} in loop* | ram* | zram* | nbd*) continue ;; esac
		[ -r "$d/dev" ] && cat "$d/dev" && return 0
	done
	return 1
}

@test "limits are written to the container's cgroup" {
	requires_helper
	set_cfg '.linux.resources.memory = {limit: 67108864, reservation: 33554432}
		| .linux.resources.pids = {limit: 40}
		| .linux.resources.cpu = {shares: 512, quota: 25000, period: 100000, cpus: "0"}'
	id=$(new_id)
	set_helper_args pause
	run_detached "$id"
	assert_eq "$(cg_cat memory "$id" memory.limit_in_bytes memory.max)" 67108864 "memory limit"
	assert_eq "$(cg_cat memory "$id" memory.soft_limit_in_bytes memory.low)" 33554432 "reservation"
	assert_eq "$(cg_cat pids "$id" pids.max pids.max)" 40 "pids.max"
	assert_eq "$(cg_cat cpuset "$id" cpuset.cpus cpuset.cpus)" 0 "cpuset.cpus"
	if cg_v2; then
		assert_eq "$(cat "$(cg_dir unified "$id")/cpu.max")" "25000 100000" "cpu.max"
		# crun's conversion: 512 shares -> weight 59.
		assert_eq "$(cat "$(cg_dir unified "$id")/cpu.weight")" 59 "cpu.weight"
	else
		assert_eq "$(cat "$(cg_dir cpu "$id")/cpu.shares")" 512 "cpu.shares"
		assert_eq "$(cat "$(cg_dir cpu "$id")/cpu.cfs_quota_us")" 25000 "quota"
		assert_eq "$(cat "$(cg_dir cpu "$id")/cpu.cfs_period_us")" 100000 "period"
	fi
	# Its processes are in it, and ps lists them from there.
	pid=$(ctr_pid "$id")
	grep -qx "$pid" "$(cg_dir pids "$id")/cgroup.procs" || fail "init $pid not in the cgroup"
	run runtime ps --format json "$id"
	assert_success
	assert_eq "$(jq -c . <<<"$output")" "[$pid]" "ps"
	runtime delete --force "$id"
	[ ! -e "$(cg_dir pids "$id")" ] || fail "cgroup left after delete"
}

@test "the container sees its own cgroup as / (cgroup namespace)" {
	requires_helper
	run_ctr /bin/cat /proc/self/cgroup
	assert_success
	# Every line ends in ":/": the namespace is rooted at the container's cgroup.
	[ -n "$output" ] || fail "empty /proc/self/cgroup"
	if grep -v ':/$' <<<"$output"; then
		fail "cgroup paths not rooted at the container: $output"
	fi
}

@test "memory limit: an allocation past it is OOM-killed with status 137" {
	requires_helper
	set_cfg '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
	run_ctr /bin/berth-testhelper alloc 256
	assert_status 137
	assert_not_contains "$output" ok "output"
}

@test "events: an OOM kill is reported while the container runs on" {
	requires_helper
	set_cfg '.linux.resources.memory = {limit: 33554432, swap: 33554432}'
	id=$(new_id)
	set_args /bin/sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done
		/bin/berth-testhelper alloc 256; echo "alloc: $?" > /tmp/done; sleep 1000'
	run_detached "$id"
	events=$BATS_TEST_TMPDIR/events
	runtime events --interval 1s "$id" >"$events" 2>&1 &
	bg_pid $!
	retry 10 grep -q '"type":"stats"' "$events" || fail "no stats event: $(cat "$events")"
	touch "$BUNDLE/rootfs/tmp/go"
	retry 20 grep -q '"type":"oom"' "$events" || fail "no oom event: $(cat "$events")"
	assert_json "$(grep -m1 '"type":"oom"' "$events")" '.id' "$id"
	retry 10 test -e "$BUNDLE/rootfs/tmp/done"
	assert_eq "$(cat "$BUNDLE/rootfs/tmp/done")" "alloc: 137" "the allocating child"
	assert_eq "$(ctr_status "$id")" running "container after the OOM kill"
}

@test "pids limit: a fork bomb is contained; the host and other containers carry on" {
	requires_helper
	set_cfg '.linux.resources.pids = {limit: 32}'
	bomb=$(new_id bomb)
	set_args /bin/sh -c 'b() { b | b & }; b; sleep 1000'
	run_detached "$bomb"
	# The kernel refuses its forks (pids.events counts them) and it never
	# holds more than its limit.
	retry 20 forks_refused "$bomb" || fail "no fork of the bomb was refused"
	for _ in 1 2 3 4 5; do
		n=$(cat "$(cg_dir pids "$bomb")/pids.current")
		[ "$n" -le 32 ] || fail "pids.current $n above the limit"
		sleep 0.2
	done
	# The host forks and another container starts and runs while it goes on.
	run /bin/sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true || exit 1; done; echo fine'
	assert_eq "$output" fine "host forks"
	set_cfg 'del(.linux.resources.pids)'
	run_ctr /bin/berth-testhelper spawn-sleepers 50 0.1
	assert_success
	assert_not_contains "$stderr" "fork" "other container's stderr"
	# kill --all stops the bomb for good (frozen first: no fork escapes).
	runtime kill --all "$bomb" KILL
	wait_status "$bomb" stopped
	retry 10 pids_exactly "$bomb" 0
}

@test "cpu quota: the container gets about quota/period of a CPU" {
	requires_helper
	set_cfg '.linux.resources.cpu = {quota: 20000, period: 100000}'
	run_ctr /bin/berth-testhelper burn 2
	assert_success
	read -r cpu wall <<<"$output"
	# 20% of a CPU: well under 35% of the wall time, and not starved to nothing.
	[ "$cpu" -le $((wall * 35 / 100)) ] || fail "got ${cpu}ms of CPU in ${wall}ms under a 20% quota"
	[ "$cpu" -gt 0 ] || fail "no CPU time at all"
}

@test "cpuset: the container's processes are pinned to the given CPUs" {
	requires_helper
	requires_controller cpuset
	set_cfg '.linux.resources.cpu = {cpus: "0"}'
	run_ctr /bin/grep Cpus_allowed_list /proc/self/status
	assert_success
	assert_eq "$(awk '{print $2}' <<<"$output")" 0 "Cpus_allowed_list"
}

@test "block IO: throttles and weights land for a device that exists" {
	dev=$(block_device) || skip "no block device"
	set_cfg '.linux.resources.blockIO = {
		throttleReadBpsDevice: [{major: $ma, minor: $mi, rate: 1048576}],
		throttleWriteIOPSDevice: [{major: $ma, minor: $mi, rate: 100}]}' \
		--argjson ma "${dev%:*}" --argjson mi "${dev#*:}"
	id=$(new_id)
	set_args /bin/sleep 1000
	run_detached "$id"
	if cg_v2; then
		run cat "$(cg_dir unified "$id")/io.max"
		assert_contains "$output" "$dev rbps=1048576" io.max
		assert_contains "$output" "wiops=100" io.max
	else
		assert_contains "$(cat "$(cg_dir blkio "$id")/blkio.throttle.read_bps_device")" \
			"$dev 1048576" read_bps_device
		assert_contains "$(cat "$(cg_dir blkio "$id")/blkio.throttle.write_iops_device")" \
			"$dev 100" write_iops_device
	fi
	runtime delete --force "$id"
	# A weight, where the kernel has a weight-based scheduler for it.
	set_cfg '.linux.resources.blockIO.weight = 300'
	id=$(new_id)
	if ! runtime run -d --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err"; then
		assert_contains "$(cat "$BATS_TEST_TMPDIR/err")" "blockIO.weight" "the error names the field"
		skip "no weight-based IO control here: $(cat "$BATS_TEST_TMPDIR/err")"
	fi
	if cg_v2; then
		run cat "$(cg_dir unified "$id")/io.bfq.weight" "$(cg_dir unified "$id")/io.weight"
		assert_contains "$output" default "io weight"
	else
		w=$(cat "$(cg_dir blkio "$id")/blkio.bfq.weight" 2>/dev/null ||
			cat "$(cg_dir blkio "$id")/blkio.weight")
		assert_contains "$w" 300 "blkio weight"
	fi
}

@test "devices: a node the rules do not allow cannot be opened, even though it exists" {
	requires_helper
	# /dev/kmsg (c 1:11) is created in the container but not allowed. (Opened
	# for writing: reading it needs CAP_SYSLOG whatever the cgroup says.)
	set_cfg '.linux.devices = [{path: "/dev/kmsg", type: "c", major: 1, minor: 11, fileMode: 420}]'
	run_ctr /bin/berth-testhelper open /dev/kmsg w
	assert_success
	assert_eq "$output" EPERM "open of a denied device"
	# The defaults every container gets stay usable.
	run_ctr /bin/sh -c '/bin/berth-testhelper open /dev/null rw; /bin/berth-testhelper open /dev/zero r;
		/bin/berth-testhelper open /dev/urandom r'
	assert_eq "$output" $'ok\nok\nok' "default devices"
	# Allowed by a rule: now it opens.
	set_cfg '.linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 11, access: "w"}]'
	run_ctr /bin/berth-testhelper open /dev/kmsg w
	assert_eq "$output" ok "open once allowed"
	# mknod of a node is allowed (with CAP_MKNOD); using it is not.
	set_cfg '.linux.resources.devices = [{allow: false, access: "rwm"}]
		| .process.capabilities |= map_values(. + ["CAP_MKNOD"])'
	run_ctr /bin/sh -c '/bin/berth-testhelper mknod /tmp/kmsg c 1 11 && /bin/berth-testhelper open /tmp/kmsg w'
	assert_eq "$output" $'ok\nEPERM' "mknod, then open of the node"
}

@test "update: new limits on a running container take effect" {
	requires_helper
	set_cfg '.linux.resources.memory = {limit: 268435456} | .linux.resources.pids = {limit: 100}'
	id=$(new_id)
	set_args /bin/sleep 1000
	run_detached "$id"
	runtime update --memory 64m --pids-limit 20 --cpu-quota 30000 --cpu-period 100000 "$id"
	assert_eq "$(cg_cat memory "$id" memory.limit_in_bytes memory.max)" 67108864 "memory after update"
	assert_eq "$(cg_cat pids "$id" pids.max pids.max)" 20 "pids after update"
	if cg_v2; then
		assert_eq "$(cat "$(cg_dir unified "$id")/cpu.max")" "30000 100000" "cpu.max"
	else
		assert_eq "$(cat "$(cg_dir cpu "$id")/cpu.cfs_quota_us")" 30000 "quota"
	fi
	# From a resources file, and on stdin.
	echo '{"pids": {"limit": 7}}' >"$BATS_TEST_TMPDIR/res.json"
	runtime update --resources "$BATS_TEST_TMPDIR/res.json" "$id"
	assert_eq "$(cg_cat pids "$id" pids.max pids.max)" 7 "pids from a file"
	echo '{"pids": {"limit": 9}}' | runtime update -r - "$id"
	assert_eq "$(cg_cat pids "$id" pids.max pids.max)" 9 "pids from stdin"
	# It holds: the container cannot start more than 9 processes now.
	run runtime exec "$id" /bin/berth-testhelper spawn-sleepers 20 0.5
	assert_contains "$output$stderr" "fork: EAGAIN" "fork past the updated limit"
	# Bad input is refused with the field named.
	run runtime update --memory lots "$id"
	assert_failure
	assert_contains "$output" "--memory" error
	echo '{"pids": {"limit": "x"}}' >"$BATS_TEST_TMPDIR/bad.json"
	run runtime update -r "$BATS_TEST_TMPDIR/bad.json" "$id"
	assert_failure
	assert_contains "$output" "pids.limit" error
	assert_eq "$(cg_cat pids "$id" pids.max pids.max)" 9 "pids unchanged by a bad update"
}

@test "pause freezes every process; resume lets them go on" {
	set_args /bin/sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/n; done'
	id=$(new_id)
	run_detached "$id"
	retry 10 test -s "$BUNDLE/rootfs/tmp/n"
	runtime pause "$id"
	assert_eq "$(ctr_status "$id")" paused status
	a=$(cat "$BUNDLE/rootfs/tmp/n")
	sleep 0.5
	b=$(cat "$BUNDLE/rootfs/tmp/n")
	assert_eq "$b" "$a" "counter while paused"
	run runtime pause "$id"
	assert_success
	runtime resume "$id"
	assert_eq "$(ctr_status "$id")" running status
	moved() { [ "$(cat "$BUNDLE/rootfs/tmp/n")" != "$a" ]; }
	retry 5 moved || fail "counter did not move after resume"
	run runtime resume "$id"
	assert_failure
	assert_contains "$output" "not paused" error
	# A paused container can be deleted with --force, cgroup and all.
	runtime pause "$id"
	runtime delete --force "$id"
	[ ! -e "$(cg_dir freezer "$id")" ] || fail "cgroup left after delete"
}

@test "events --stats reports real numbers" {
	requires_helper
	set_cfg '.linux.resources.memory = {limit: 134217728} | .linux.resources.pids = {limit: 64}'
	id=$(new_id)
	set_args /bin/berth-testhelper spawn-sleepers 3 1000
	run_detached "$id"
	retry 10 pids_exactly "$id" 4
	run runtime events --stats "$id"
	assert_success
	assert_json "$output" .type stats
	assert_json "$output" .id "$id"
	assert_json "$output" .data.pids.current 4
	assert_json "$output" .data.pids.limit 64
	assert_json "$output" .data.memory.usage.limit 134217728
	jq -e '.data.memory.usage.usage > 0 and .data.cpu.usage.total > 0' <<<"$output" >/dev/null ||
		fail "no memory or CPU usage: $output"
	run runtime events --stats nosuch
	assert_failure
	assert_contains "$output" "does not exist" error
}

@test "cgroupsPath: nested paths are made, only the container's own is removed" {
	parent=berth-test-$RUN_TAG-$BATS_SUITE_TEST_NUMBER
	id=$(new_id)
	defer "find /sys/fs/cgroup -maxdepth 2 -name $parent -type d -exec rmdir {} + 2>/dev/null"
	set_cfg '.linux.cgroupsPath = $p' --arg p "/$parent/$id"
	set_args /bin/sleep 1000
	run_detached "$id"
	pid=$(ctr_pid "$id")
	grep -qx "$pid" "$(cg_dir pids "/$parent/$id")/cgroup.procs" || fail "not in /$parent/$id"
	runtime delete --force "$id"
	[ ! -e "$(cg_dir pids "/$parent/$id")" ] || fail "container cgroup left"
	[ -d "$(cg_dir pids "/$parent")" ] || fail "the parent should stay"
	# A path that climbs out is refused, and nothing is left of the attempt.
	set_cfg '.linux.cgroupsPath = "/a/../../etc"'
	run_ctr /bin/true
	assert_failure
	assert_contains "$stderr" "cgroupsPath" error
	set_cfg '.linux.cgroupsPath = "system.slice:berth:x"'
	run_ctr /bin/true
	assert_failure
	assert_contains "$stderr" "systemd" error
}

@test "--cgroup-manager disabled: no cgroup, and update says why" {
	set_cfg '.linux.resources.pids = {limit: 10}'
	id=$(new_id)
	set_args /bin/sleep 1000
	runtime --cgroup-manager disabled run -d --bundle "$BUNDLE" "$id" </dev/null >/dev/null
	[ ! -e "$(cg_dir pids "$id")" ] || fail "a cgroup was made"
	run runtime update --pids-limit 5 "$id"
	assert_failure
	assert_contains "$output" "no cgroup" error
	runtime kill "$id" KILL
	wait_status "$id" stopped
}

@test "a limit that cannot be applied fails the create and leaves nothing" {
	if cg_v2; then
		set_cfg '.linux.resources.network = {classID: 1048577}'
		want="net_cls"
	else
		set_cfg '.linux.resources.unified = {"memory.high": "1000000"}'
		want="unified"
	fi
	id=$(new_id)
	run runtime create --bundle "$BUNDLE" "$id"
	assert_failure
	assert_contains "$output" "$want" error
	[ -z "$(runtime list -q)" ] || fail "containers left: $(runtime list -q)"
}

@test "kill --all reaches every process in the cgroup, even in the host pid namespace" {
	requires_helper
	set_cfg '.linux.namespaces |= map(select(.type != "pid"))'
	id=$(new_id)
	set_args /bin/berth-testhelper spawn-sleepers 3 1000
	run_detached "$id"
	retry 10 procs_exactly "$id" 4
	runtime kill --all "$id" KILL
	retry 10 procs_exactly "$id" 0 ||
		fail "left: $(cat "$(cg_dir pids "$id")/cgroup.procs")"
}

@test "differential: the same limits land in the same cgroup files as under runc" {
	[ -x "$REF_RUNTIME" ] || skip "no $REF_RUNTIME"
	is_berth || skip "comparing berth-runtime with runc"
	cg_v2 && skip "runc 1.1 here is compared on the v1 host"
	dev=$(block_device) || dev=
	set_cfg '.linux.resources.memory = {limit: 67108864, reservation: 33554432, swap: 134217728, swappiness: 20}
		| .linux.resources.pids = {limit: 50}
		| .linux.resources.cpu = {shares: 256, quota: 30000, period: 100000, cpus: "0", mems: "0"}'
	if [ -n "$dev" ]; then
		set_cfg '.linux.resources.blockIO = {throttleReadBpsDevice: [{major: $ma, minor: $mi, rate: 2097152}]}' \
			--argjson ma "${dev%:*}" --argjson mi "${dev#*:}"
	fi
	set_args /bin/sleep 1000
	id=$(new_id)
	ref=$(new_id ref)
	run_detached "$id"
	ref_runtime run -d --bundle "$BUNDLE" "$ref" </dev/null >/dev/null 2>&1 || fail "runc run failed"
	files="memory/memory.limit_in_bytes memory/memory.soft_limit_in_bytes
		memory/memory.memsw.limit_in_bytes memory/memory.swappiness pids/pids.max
		cpu/cpu.shares cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpuset/cpuset.cpus
		cpuset/cpuset.mems devices/devices.list blkio/blkio.throttle.read_bps_device"
	for f in $files; do
		[ -e "$(cg_dir "${f%%/*}" "$id")/${f#*/}" ] || continue
		# Sorted: devices.list order follows the order rules were written.
		assert_eq "$(sort "$(cg_dir "${f%%/*}" "$id")/${f#*/}")" \
			"$(sort "$(cg_dir "${f%%/*}" "$ref")/${f#*/}")" "$f (berth-runtime vs runc)"
	done
}

@test "hugepage limits land where hugetlb lives (v1, the hybrid v2 tree, or v2)" {
	local hdir
	if cg_v2; then
		grep -qw hugetlb /sys/fs/cgroup/cgroup.controllers || skip "no hugetlb controller"
	elif [ ! -d /sys/fs/cgroup/hugetlb ] && ! grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
		skip "no hugetlb controller"
	fi
	[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "no 2MB huge pages"
	set_cfg '.linux.resources.hugepageLimits = [{pageSize: "2MB", limit: 4194304}]'
	id=$(new_id)
	set_args /bin/sleep 1000
	run_detached "$id"
	if cg_v2; then
		hdir=$(cg_dir unified "$id")
		assert_eq "$(cat "$hdir/hugetlb.2MB.max")" 4194304 "hugetlb.2MB.max"
	elif [ -d /sys/fs/cgroup/hugetlb ]; then
		hdir=$(cg_dir hugetlb "$id")
		assert_eq "$(cat "$hdir/hugetlb.2MB.limit_in_bytes")" 4194304 "hugetlb limit"
	else
		# Hybrid: the v2 tree carries hugetlb, below our own cgroup there.
		own=$(sed -n 's/^0:://p' /proc/self/cgroup)
		hdir=/sys/fs/cgroup/unified${own%/}/$id
		assert_eq "$(cat "$hdir/hugetlb.2MB.max")" 4194304 "hugetlb.2MB.max in the v2 tree"
	fi
	runtime delete --force "$id"
	[ ! -e "$hdir" ] || fail "$hdir left after delete"
}

@test "delete removes cgroups the container made below its own" {
	requires_helper
	# A writable cgroup mount in a cgroup namespace: the container makes a
	# child cgroup, as systemd in a container would.
	set_cfg '(.mounts[] | select(.type == "cgroup") | .options) |= map(select(. != "ro"))'
	if cg_v2; then
		sub=/sys/fs/cgroup/made-inside
	else
		sub=/sys/fs/cgroup/pids/made-inside
	fi
	set_args /bin/sh -c "mkdir $sub && echo made && exec sleep 1000"
	id=$(new_id)
	run_detached "$id"
	retry 10 grep -q made "$(ctr_out "$id")" || fail "the container could not make $sub: $(cat "$(ctr_err "$id")")"
	[ -d "$(cg_dir pids "$id")/made-inside" ] || fail "no child cgroup on the host side"
	runtime delete --force "$id"
	[ ! -e "$(cg_dir pids "$id")" ] || fail "cgroup tree left after delete"
}
