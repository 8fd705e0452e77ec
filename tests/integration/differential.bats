#!/usr/bin/env bats
# Differential tests: the same bundle under $BERTH_RUNTIME and $REF_RUNTIME
# (runc) gives the same state shape, exit codes and view from inside.

load helpers

setup_file() {
	[ -x "$REF_RUNTIME" ] || skip "no reference runtime at $REF_RUNTIME"
}

# both CMD...: run CMD with the runtime under test, then the reference, with
# fresh ids; sets B_STATUS/B_OUT/B_ERR and R_STATUS/R_OUT/R_ERR.
# The id goes where CMD has the word ID.
both() {
	local args=() a id
	id=$(new_id b)
	for a in "$@"; do [ "$a" = ID ] && args+=("$id") || args+=("$a"); done
	run_files runtime "${args[@]}"
	B_STATUS=$status B_OUT=$output B_ERR=$stderr
	args=()
	id=$(new_id r)
	for a in "$@"; do [ "$a" = ID ] && args+=("$id") || args+=("$a"); done
	run_files ref_runtime "${args[@]}"
	R_STATUS=$status R_OUT=$output R_ERR=$stderr
}

assert_same_status() {
	[ "$B_STATUS" -eq "$R_STATUS" ] || fail "$1: exit status $B_STATUS under $BERTH_RUNTIME, $R_STATUS under $REF_RUNTIME" \
		"berth stderr: $B_ERR" "ref stderr: $R_ERR"
}

# Sorted key list of a JSON object.
keys_of() {
	jq -c 'keys' <<<"$1"
}

host_ns_json() {
	local n out='{}'
	for n in pid net mnt ipc uts user cgroup time; do
		out=$(jq -c --arg k "$n" --arg v "$(readlink "/proc/self/ns/$n")" '. + {($k): $v}' <<<"$out")
	done
	echo "$out"
}

# normalize REPORT: what must match between runtimes, without the numbers
# that differ from run to run (ns inodes, pipe inodes, mount ids). Where
# stdio point is the runtime's choice: runc's foreground run copies through
# pipes, crun passes the caller's fds. Ignored signals too: berth resets every
# disposition, runc leaves glibc's signal 32 ignored when its caller had it so.
normalize() {
	jq -S --argjson host "$(host_ns_json)" '
		del(.sigignore)
		| .ns |= with_entries(.value = (if .value == $host[.key] then "host" else "new" end))
		| .fds |= map(if .fd <= 2 then del(.target) else .target |= gsub("\\[[0-9]+\\]"; "[N]") end)
		| .mounts |= (map({mount_point, fstype, options}) | sort_by(.mount_point, .fstype))
	' <<<"$1"
}

assert_same_report() {
	local b r
	b=$(normalize "$1")
	r=$(normalize "$2")
	[ "$b" = "$r" ] || fail "reports differ (< $BERTH_RUNTIME, > $REF_RUNTIME):" "$(diff <(echo "$b") <(echo "$r"))"
}

# report_both: the bundle's report under both runtimes.
report_both() {
	set_helper_args report
	both run --bundle "$BUNDLE" ID
	[ "$B_STATUS" -eq 0 ] || fail "run under $BERTH_RUNTIME failed ($B_STATUS): $B_ERR"
	[ "$R_STATUS" -eq 0 ] || fail "run under $REF_RUNTIME failed ($R_STATUS): $R_ERR"
}

@test "differential: state has the same keys and status through the lifecycle" {
	requires_helper
	set_helper_args pause
	set_cfg '.annotations = {"a": "b"}'
	local b r
	b=$(new_id b)
	r=$(new_id r)
	create_ctr "$b"
	ref_runtime create --bundle "$BUNDLE" "$r" </dev/null >/dev/null 2>&1 || fail "reference create failed"

	local phase bs rs
	for phase in created running stopped; do
		case $phase in
		running)
			runtime start "$b"
			ref_runtime start "$r"
			wait_status "$b" running
			;;
		stopped)
			runtime kill "$b" USR1
			ref_runtime kill "$r" USR1
			wait_status "$b" stopped
			;;
		esac
		retry 20 eval '[ "$(ref_runtime state "$r" | jq -r .status)" = '"$phase"' ]' ||
			fail "reference did not reach $phase"
		bs=$(runtime state "$b")
		rs=$(ref_runtime state "$r")
		assert_eq "$(keys_of "$bs")" "$(keys_of "$rs")" "state keys when $phase"
		assert_eq "$(jq -r .status <<<"$bs")" "$(jq -r .status <<<"$rs")" "status when $phase"
		assert_eq "$(jq -c .annotations <<<"$bs")" "$(jq -c .annotations <<<"$rs")" "annotations when $phase"
		assert_eq "$(jq '.pid > 0' <<<"$bs")" "$(jq '.pid > 0' <<<"$rs")" "pid > 0 when $phase"
		assert_eq "$(jq '[.[] | type]' <<<"$bs" | jq -c .)" "$(jq '[.[] | type]' <<<"$rs" | jq -c .)" "field types when $phase"
	done
}

@test "differential: list --format json has the same fields" {
	requires_helper
	set_helper_args pause
	local b r
	b=$(new_id b)
	r=$(new_id r)
	create_ctr "$b"
	ref_runtime create --bundle "$BUNDLE" "$r" </dev/null >/dev/null 2>&1 || fail "reference create failed"
	assert_eq "$(runtime list --format json | jq -c '.[0] | keys')" "$(ref_runtime list --format json | jq -c '.[0] | keys')" "list entry keys"
	assert_eq "$(runtime ps --format json "$b" | jq -c 'map(type)')" "$(ref_runtime ps --format json "$r" | jq -c 'map(type)')" "ps json shape"
}

@test "differential: exit codes of run (0, 3, missing binary, not executable)" {
	requires_helper
	local args
	for args in "/bin/berth-testhelper exit 0" "/bin/berth-testhelper exit 3" "/bin/berth-testhelper exit 255" \
		"nosuchbinary" "/no/such/binary" "/etc/passwd"; do
		# shellcheck disable=SC2086
		set_args $args
		both run --bundle "$BUNDLE" ID
		assert_same_status "run $args"
	done
}

@test "differential: kill -9 of a foreground run exits 137" {
	requires_helper
	set_helper_args pause
	local b r bpid rpid bst rst
	b=$(new_id b)
	r=$(new_id r)
	runtime run --bundle "$BUNDLE" "$b" </dev/null >/dev/null 2>&1 &
	bpid=$!
	bg_pid "$bpid"
	ref_runtime run --bundle "$BUNDLE" "$r" </dev/null >/dev/null 2>&1 &
	rpid=$!
	bg_pid "$rpid"
	wait_status "$b" running
	retry 20 eval '[ "$(ref_runtime state "$r" 2>/dev/null | jq -r .status)" = running ]' || fail "reference not running"
	runtime kill "$b" 9
	ref_runtime kill "$r" KILL
	wait "$bpid" && bst=0 || bst=$?
	wait "$rpid" && rst=0 || rst=$?
	assert_eq "$bst" "$rst" "exit status of run after SIGKILL"
	assert_eq "$bst" 137 "exit status of run after SIGKILL"
}

@test "differential: exit codes of exec" {
	requires_helper
	local b r
	b=$(new_id b)
	r=$(new_id r)
	start_pause_ctr "$b"
	ref_runtime run -d --bundle "$BUNDLE" "$r" </dev/null >/dev/null 2>&1 || fail "reference run -d failed"
	local args
	for args in "/bin/berth-testhelper exit 0" "/bin/berth-testhelper exit 3" "nosuchbinary" "/no/such/binary"; do
		# shellcheck disable=SC2086
		run_files runtime exec "$b" $args
		B_STATUS=$status B_ERR=$stderr
		# shellcheck disable=SC2086
		run_files ref_runtime exec "$r" $args
		R_STATUS=$status R_ERR=$stderr
		assert_same_status "exec $args"
	done
}

@test "differential: exit codes of errors" {
	requires_helper
	both state nosuch
	assert_same_status "state of a missing container"
	both delete nosuch
	assert_same_status "delete of a missing container"
	both delete --force nosuch
	assert_same_status "delete --force of a missing container"
	both kill nosuch KILL
	assert_same_status "kill of a missing container"

	set_helper_args exit 0
	local b r
	b=$(new_id b)
	r=$(new_id r)
	run_detached "$b"
	ref_runtime run -d --bundle "$BUNDLE" "$r" </dev/null >/dev/null 2>&1
	wait_status "$b" stopped
	retry 20 eval '[ "$(ref_runtime state "$r" | jq -r .status)" = stopped ]'
	run runtime kill "$b" KILL
	B_STATUS=$status B_ERR=$output
	run ref_runtime kill "$r" KILL
	R_STATUS=$status R_ERR=$output
	assert_same_status "kill of a stopped container"
	run runtime start "$b"
	B_STATUS=$status B_ERR=$output
	run ref_runtime start "$r"
	R_STATUS=$status R_ERR=$output
	assert_same_status "start of a stopped container"
}

@test "differential: the default spec's view from inside" {
	requires_helper
	report_both
	assert_same_report "$B_OUT" "$R_OUT"
}

@test "differential: a configured view from inside" {
	requires_helper
	mkdir -p "$BATS_TEST_TMPDIR/src"
	set_cfg '
		.hostname = "diff-host"
		| .process.cwd = "/tmp"
		| .process.env = ["PATH=/bin", "A=1", "HOME=/root"]
		| .process.user = {"uid": 1000, "gid": 1000, "additionalGids": [5, 7], "umask": 23}
		| .process.noNewPrivileges = false
		| .process.oomScoreAdj = 100
		| .process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 200, "hard": 300}, {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
		| .process.capabilities = {
			"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
			"effective": ["CAP_KILL"], "permitted": ["CAP_KILL"],
			"inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}
		| .mounts += [
			{"destination": "/data", "type": "bind", "source": $src, "options": ["rbind", "ro", "nosuid", "nodev"]},
			{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "noexec"]}]
		| .linux.sysctl = {"net.ipv4.ip_forward": "1"}
		| .linux.maskedPaths += ["/etc/group"]
		| .linux.readonlyPaths += ["/home"]
		| .linux.namespaces |= (map(select(.type != "cgroup")) + [{"type": "cgroup"}])' --arg src "$BATS_TEST_TMPDIR/src"
	report_both
	assert_same_report "$B_OUT" "$R_OUT"
}

@test "differential: the view of a shared pid and network namespace" {
	requires_helper
	set_cfg '.linux.namespaces = [{"type": "mount"}, {"type": "ipc"}, {"type": "uts"}]'
	report_both
	# Host pids differ from run to run.
	assert_same_report "$(jq '.pid = 0 | .ppid = 0' <<<"$B_OUT")" "$(jq '.pid = 0 | .ppid = 0' <<<"$R_OUT")"
}

@test "differential: exec sees the same" {
	requires_helper
	local b r
	b=$(new_id b)
	r=$(new_id r)
	start_pause_ctr "$b"
	ref_runtime run -d --bundle "$BUNDLE" "$r" </dev/null >/dev/null 2>&1 || fail "reference run -d failed"
	local flags=(--cwd /tmp --env X=1 --user 1000:1000)
	run --separate-stderr runtime exec "${flags[@]}" "$b" /bin/berth-testhelper report
	assert_success
	local bo=$output
	run --separate-stderr ref_runtime exec "${flags[@]}" "$r" /bin/berth-testhelper report
	assert_success
	# Exec'd pids depend on how many helper processes each runtime forks.
	assert_same_report "$(jq '.pid = 0' <<<"$bo")" "$(jq '.pid = 0' <<<"$output")"
}
