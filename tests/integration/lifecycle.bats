#!/usr/bin/env bats
# create, start, run, state, kill, delete, list, ps: the container lifecycle
# as a caller (containerd, podman) drives it.

load helpers

@test "create leaves the process waiting until start" {
	requires_helper
	set_args /bin/sh -c 'echo started > /started; exec /bin/berth-testhelper pause'
	local id
	id=$(new_id)
	create_ctr "$id"

	run --separate-stderr runtime state "$id"
	assert_success
	assert_json "$output" '.status == "created" and .pid > 0'
	local pid
	pid=$(jq .pid <<<"$output")
	[ -d "/proc/$pid" ] || fail "created container's pid $pid is not a live process"
	# Not a timing assertion: the user process must not run before start,
	# however long we wait.
	sleep 0.5
	[ ! -e "$BUNDLE/rootfs/started" ] || fail "the process ran before start"

	run runtime start "$id"
	assert_success
	retry 20 test -e "$BUNDLE/rootfs/started" || fail "the process did not run after start"
	wait_status "$id" running
	assert_eq "$(ctr_pid "$id")" "$pid" "pid after start"
}

@test "create --pid-file writes the pid, decimal without newline, before returning" {
	requires_helper
	set_helper_args pause
	local id
	id=$(new_id)
	create_ctr "$id" --pid-file "$BATS_TEST_TMPDIR/pid"
	[ -f "$BATS_TEST_TMPDIR/pid" ] || fail "no pid file after create returned"
	local content
	content=$(cat "$BATS_TEST_TMPDIR/pid")
	[[ "$content" =~ ^[1-9][0-9]*$ ]] || fail "pid file is not a decimal pid: '$content'"
	assert_eq "$(stat -c %s "$BATS_TEST_TMPDIR/pid")" "${#content}" "pid file size (no newline)"
	assert_eq "$content" "$(ctr_pid "$id")" "pid file vs state pid"
}

@test "the created process runs a sealed or read-only runtime binary (CVE-2019-5736)" {
	requires_helper
	requires_python
	set_helper_args pause
	local id pid
	id=$(new_id)
	create_ctr "$id"
	pid=$(ctr_pid "$id")
	# Either the executable sits on a read-only mount (runc 1.1) or it is a
	# memfd sealed against writes (F_SEAL_WRITE or F_SEAL_FUTURE_WRITE).
	run /usr/bin/python3 -c '
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
ro = os.fstatvfs(fd).f_flag & os.ST_RDONLY
try:
    seals = fcntl.fcntl(fd, 1034)  # F_GET_SEALS
except OSError:
    seals = 0
print("read-only" if ro else "sealed" if seals & 0x18 else "writable")
' "/proc/$pid/exe"
	assert_success
	[ "$output" != writable ] || fail "the waiting container process runs a writable binary: $(readlink "/proc/$pid/exe")"
	if (: >>"/proc/$pid/exe") 2>/dev/null; then
		fail "the waiting container process's executable opens for writing"
	fi
}

@test "create --bundle / -b with a relative path records the absolute bundle" {
	requires_helper
	set_helper_args pause
	local id1 id2
	id1=$(new_id)
	id2=$(new_id)
	cd "$BATS_TEST_TMPDIR"
	run_files runtime create --bundle bundle "$id1"
	assert_success
	run_files runtime create -b ./bundle "$id2"
	assert_success
	assert_eq "$(runtime state "$id1" | jq -r .bundle)" "$BUNDLE" "state.bundle (--bundle)"
	assert_eq "$(runtime state "$id2" | jq -r .bundle)" "$BUNDLE" "state.bundle (-b)"
	assert_eq "$(runtime state "$id2" | jq -r .rootfs)" "$BUNDLE/rootfs" "state.rootfs"
}

@test "create --config uses another config file" {
	skip_unless_berth "runc 1.1 create has no --config (crun has)"
	requires_helper
	set_helper_args exit 0
	cp "$BUNDLE/config.json" "$BATS_TEST_TMPDIR/other.json"
	CFG_FILE=$BATS_TEST_TMPDIR/other.json set_cfg '.annotations = {"which": "other"}'
	local id
	id=$(new_id)
	create_ctr "$id" --config "$BATS_TEST_TMPDIR/other.json"
	assert_eq "$(runtime state "$id" | jq -r .annotations.which)" other "annotation from --config file"
}

@test "create --no-pivot and --no-new-keyring run the container" {
	requires_helper
	set_helper_args ls /
	local id
	id=$(new_id)
	create_ctr "$id" --no-pivot --no-new-keyring
	runtime start "$id"
	wait_status "$id" stopped
	assert_eq "$(cat "$(ctr_out "$id")")" "$(ls -A "$BUNDLE/rootfs" | LC_ALL=C sort)" "ls / inside the container"

	set_helper_args report
	id=$(new_id)
	run --separate-stderr runtime run --no-pivot --bundle "$BUNDLE" "$id"
	assert_success
	assert_eq "$(jq -r .cwd <<<"$output")" / "cwd with --no-pivot"
	assert_json "$output" '[.mounts[] | select(.mount_point == "/")] | length >= 1'
}

@test "create with an existing id fails and leaves the first container alone" {
	requires_helper
	local id
	id=$(new_id)
	start_pause_ctr "$id"
	run_files runtime create --bundle "$BUNDLE" "$id"
	assert_failure
	assert_eq "$(ctr_status "$id")" running "first container's status"
}

@test "create without a config.json fails" {
	local id
	id=$(new_id)
	rm "$BUNDLE/config.json"
	run_files runtime create --bundle "$BUNDLE" "$id"
	assert_failure
	run runtime state "$id"
	assert_failure
}

@test "a config.json of the wrong type fails naming the field" {
	local id
	id=$(new_id)
	set_cfg '.process.args = 5'
	run_files runtime create --bundle "$BUNDLE" "$id"
	assert_failure
	assert_contains "$(all_output)" args "error for process.args = 5"
	run runtime state "$id"
	assert_failure
}

@test "invalid container ids are rejected" {
	local bad
	for bad in "../x" "a/b" "" ".." "." "a b"; do
		run_files runtime create --bundle "$BUNDLE" "$bad"
		[ "$status" -ne 0 ] || fail "id '$bad' was accepted"
		run runtime state "$bad"
		[ "$status" -ne 0 ] || fail "state '$bad' succeeded"
	done
	[ ! -e "$BATS_TEST_TMPDIR/x" ] || fail "'../x' created $BATS_TEST_TMPDIR/x"
	[ -z "$(runtime list -q)" ] || fail "containers listed after invalid ids: $(runtime list -q)"
}

@test "ids with letters, digits, '.', '-', '_' and '+' are valid" {
	requires_helper
	set_helper_args pause
	local id
	id="$(new_id)"
	id="${id}.a-b_c+d"
	echo "$id" >>"$BATS_TEST_TMPDIR/ids"
	create_ctr "$id"
	assert_eq "$(runtime state "$id" | jq -r .id)" "$id" "state.id"
}

@test "start on a running or missing container fails" {
	requires_helper
	local id
	id=$(new_id)
	start_pause_ctr "$id"
	run runtime start "$id"
	assert_failure
	run runtime start "$(new_id)"
	assert_failure
}

@test "run: the container's output and exit status, then the container is gone" {
	requires_helper
	set_helper_args echo hello from inside
	local id
	id=$(new_id)
	run --separate-stderr runtime run --bundle "$BUNDLE" "$id"
	assert_success
	assert_eq "$output" "hello from inside" "container stdout"

	set_helper_args exit 3
	id=$(new_id)
	run runtime run --bundle "$BUNDLE" "$id"
	assert_status 3
	run runtime state "$id"
	assert_failure
}

@test "run: stdin reaches the container" {
	set_args /bin/cat
	local id
	id=$(new_id)
	feed() { echo piped-in | runtime run --bundle "$BUNDLE" "$1"; }
	run --separate-stderr feed "$id"
	assert_success
	assert_eq "$output" piped-in "container stdout"
}

@test "run --pid-file writes the container pid" {
	requires_helper
	set_args /bin/sh -c 'echo $$'
	local id
	id=$(new_id)
	# With its own pid namespace the process sees itself as 1; compare
	# against the host pid via the pid file is not possible after exit, so
	# check the format and that the file appeared.
	run --separate-stderr runtime run --pid-file "$BATS_TEST_TMPDIR/pid" --bundle "$BUNDLE" "$id"
	assert_success
	assert_eq "$output" 1 "pid inside the container"
	[[ "$(cat "$BATS_TEST_TMPDIR/pid")" =~ ^[1-9][0-9]*$ ]] || fail "pid file: '$(cat "$BATS_TEST_TMPDIR/pid")'"
}

@test "run --detach returns while the container runs" {
	requires_helper
	set_helper_args pause
	local id
	id=$(new_id)
	run_detached "$id" --pid-file "$BATS_TEST_TMPDIR/pid"
	wait_status "$id" running
	assert_eq "$(cat "$BATS_TEST_TMPDIR/pid")" "$(ctr_pid "$id")" "pid file vs state"
	run runtime kill "$id" USR1
	assert_success
	wait_status "$id" stopped
	assert_eq "$(cat "$(ctr_out "$id")")" "signal SIGUSR1" "container output"
}

@test "run -d (short flag) and a container that exits on its own is stopped with pid 0" {
	requires_helper
	set_helper_args exit 0
	local id
	id=$(new_id)
	runtime run -d --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
	wait_status "$id" stopped
	run --separate-stderr runtime state "$id"
	assert_success
	assert_json "$output" '.pid == 0 and .status == "stopped"'
}

@test "state: every field through created, running and stopped" {
	requires_helper
	set_helper_args pause
	set_cfg '.annotations = {"org.example.key": "value", "other": ""}'
	local id
	id=$(new_id)
	create_ctr "$id"

	run --separate-stderr runtime state "$id"
	assert_success
	local s=$output
	assert_json "$s" '(.ociVersion | type == "string" and test("^1\\."))'
	assert_eq "$(jq -r .id <<<"$s")" "$id" "state.id"
	assert_eq "$(jq -r .status <<<"$s")" created "state.status"
	assert_json "$s" '.pid | type == "number" and . > 0'
	assert_eq "$(jq -r .bundle <<<"$s")" "$BUNDLE" "state.bundle"
	assert_eq "$(jq -r .rootfs <<<"$s")" "$BUNDLE/rootfs" "state.rootfs"
	assert_json "$s" '.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+)$")'
	assert_json "$s" 'has("owner")'
	assert_eq "$(jq -c .annotations <<<"$s")" '{"org.example.key":"value","other":""}' "state.annotations"

	runtime start "$id"
	wait_status "$id" running
	run --separate-stderr runtime state "$id"
	assert_json "$output" '.pid > 0'
	assert_eq "$(jq -r .created <<<"$output")" "$(jq -r .created <<<"$s")" "created is fixed"

	runtime kill "$id" TERM
	wait_status "$id" stopped
	run --separate-stderr runtime state "$id"
	assert_success
	assert_json "$output" '.status == "stopped" and .pid == 0'
}

@test "state of a missing container: error names the container" {
	run --separate-stderr runtime state nosuch
	assert_failure
	if is_runc; then
		# runc 1.1 prints "container does not exist" without the id.
		assert_contains "$stderr" "does not exist" "stderr"
	else
		assert_contains "$stderr" 'container `nosuch` does not exist' "stderr"
	fi
	[ -z "$output" ] || fail "state of a missing container printed to stdout: $output"
}

@test "kill: signal names with and without SIG, numbers, and the default TERM" {
	requires_helper
	local sig expect id
	for sig in SIGUSR1 USR2 10 12 HUP SIGINT ""; do
		case $sig in
		SIGUSR1 | 10) expect=SIGUSR1 ;;
		USR2 | 12) expect=SIGUSR2 ;;
		HUP) expect=SIGHUP ;;
		SIGINT) expect=SIGINT ;;
		"") expect=SIGTERM ;;
		esac
		id=$(new_id)
		start_pause_ctr "$id"
		if [ -n "$sig" ]; then
			run runtime kill "$id" "$sig"
		else
			run runtime kill "$id"
		fi
		assert_success
		wait_status "$id" stopped
		assert_eq "$(cat "$(ctr_out "$id")")" "signal $expect" "container output after kill '$sig'"
	done
}

@test "kill with an unknown signal fails and the container keeps running" {
	requires_helper
	local id
	id=$(new_id)
	start_pause_ctr "$id"
	run runtime kill "$id" NOSUCHSIG
	assert_failure
	run runtime kill "$id" 999
	assert_failure
	assert_eq "$(ctr_status "$id")" running "status"
}

@test "kill of a stopped container: container not running" {
	requires_helper
	local id
	id=$(new_id)
	set_helper_args exit 0
	run_detached "$id"
	wait_status "$id" stopped
	run --separate-stderr runtime kill "$id" KILL
	assert_failure
	assert_contains "$stderr" "container not running" "stderr"
}

@test "kill of a created container stops it" {
	requires_helper
	set_helper_args pause
	local id
	id=$(new_id)
	create_ctr "$id"
	run runtime kill "$id" KILL
	assert_success
	wait_status "$id" stopped
}

@test "kill --all signals every process, kill without it only init" {
	requires_helper
	local id
	id=$(new_id)
	# pid 1 of the namespace ignores TERM (no handler), its children do not.
	set_helper_args spawn-sleepers 2 1000
	run_detached "$id"
	wait_status "$id" running
	ps_count() { [ "$(runtime ps --format json "$id" | jq length)" -eq "$1" ]; }
	retry 20 ps_count 3 || fail "expected 3 processes: $(runtime ps --format json "$id")"

	run runtime kill "$id" TERM
	assert_success
	sleep 0.5
	ps_count 3 || fail "kill without --all reached the children: $(runtime ps --format json "$id")"

	run runtime kill --all "$id" TERM
	assert_success
	retry 20 ps_count 1 || fail "kill --all left: $(runtime ps --format json "$id")"
	assert_eq "$(ctr_status "$id")" running "init ignores TERM"

	run runtime kill -a "$id" KILL
	assert_success
	wait_status "$id" stopped
}

@test "delete: a stopped container is removed, a running one refused" {
	requires_helper
	local id
	id=$(new_id)
	start_pause_ctr "$id"
	run runtime delete "$id"
	assert_failure
	assert_eq "$(ctr_status "$id")" running "status after refused delete"

	runtime kill "$id" USR1
	wait_status "$id" stopped
	run runtime delete "$id"
	assert_success
	run runtime state "$id"
	assert_failure
	[ -z "$(runtime list -q)" ] || fail "still listed: $(runtime list -q)"
}

@test "delete of a created container removes it and its process" {
	requires_helper
	set_helper_args pause
	local id pid
	id=$(new_id)
	create_ctr "$id"
	pid=$(ctr_pid "$id")
	run runtime delete "$id"
	assert_success
	run runtime state "$id"
	assert_failure
	retry 10 test ! -d "/proc/$pid" || fail "process $pid of the deleted container is alive"
}

@test "delete --force kills and removes a running container" {
	requires_helper
	local id pid
	id=$(new_id)
	start_pause_ctr "$id"
	pid=$(ctr_pid "$id")
	run runtime delete --force "$id"
	assert_success
	run runtime state "$id"
	assert_failure
	retry 10 test ! -d "/proc/$pid" || fail "process $pid survived delete --force"

	id=$(new_id)
	start_pause_ctr "$id"
	run runtime delete -f "$id"
	assert_success
	run runtime state "$id"
	assert_failure
}

@test "delete --force of a missing container exits 0; without --force it fails" {
	run runtime delete --force nosuch
	assert_success
	run --separate-stderr runtime delete nosuch
	assert_failure
	assert_contains "$stderr" "does not exist" "stderr"
}

@test "list: table, --format json and -q" {
	requires_helper
	local a b
	a=$(new_id)
	b=$(new_id)
	start_pause_ctr "$a"
	set_helper_args pause
	create_ctr "$b"

	run --separate-stderr runtime list
	assert_success
	assert_eq "$(head -n1 <<<"$output" | tr -s ' ' | sed 's/ *$//')" "ID PID STATUS BUNDLE CREATED OWNER" "table header"
	local row
	row=$(awk -v id="$a" '$1 == id' <<<"$output")
	[ -n "$row" ] || fail "no row for $a in: $output"
	assert_eq "$(awk '{print $2, $3, $4}' <<<"$row")" "$(ctr_pid "$a") running $BUNDLE" "row for $a"
	row=$(awk -v id="$b" '$1 == id' <<<"$output")
	assert_eq "$(awk '{print $2, $3}' <<<"$row")" "$(ctr_pid "$b") created" "row for $b"

	run --separate-stderr runtime list --format json
	assert_success
	assert_json "$output" 'type == "array" and length == 2'
	assert_json "$output" 'all(.[]; has("id") and has("pid") and has("status") and has("bundle") and has("created") and has("owner"))'
	assert_eq "$(jq -r --arg id "$a" '.[] | select(.id == $id) | .status' <<<"$output")" running "$a status"
	assert_eq "$(jq -r --arg id "$b" '.[] | select(.id == $id) | .status' <<<"$output")" created "$b status"
	assert_eq "$(jq -r --arg id "$a" '.[] | select(.id == $id) | .bundle' <<<"$output")" "$BUNDLE" "$a bundle"

	run --separate-stderr runtime list -f json
	assert_success
	assert_json "$output" 'length == 2'

	run --separate-stderr runtime list -q
	assert_success
	assert_eq "$(sort <<<"$output")" "$(printf '%s\n' "$a" "$b" | sort)" "list -q"
	run --separate-stderr runtime list --quiet
	assert_eq "$(sort <<<"$output")" "$(printf '%s\n' "$a" "$b" | sort)" "list --quiet"
}

@test "list with no containers: header only, empty json, nothing for -q" {
	run --separate-stderr runtime list
	assert_success
	assert_eq "$(wc -l <<<"$output")" 1 "lines"
	run --separate-stderr runtime list --format json
	assert_success
	# runc prints null for none; an empty array says the same.
	assert_json "$output" '. == null or . == []'
	run --separate-stderr runtime list -q
	assert_success
	assert_eq "$output" "" "list -q"
}

@test "ps: table and --format json list the container's processes" {
	requires_helper
	local id pid
	id=$(new_id)
	start_pause_ctr "$id"
	pid=$(ctr_pid "$id")

	run --separate-stderr runtime ps --format json "$id"
	assert_success
	assert_eq "$(jq -c . <<<"$output")" "[$pid]" "ps --format json"

	run_files runtime exec --detach --pid-file "$BATS_TEST_TMPDIR/epid" "$id" /bin/berth-testhelper sleep 1000
	assert_success
	run --separate-stderr runtime ps -f json "$id"
	assert_success
	assert_eq "$(jq -c 'sort' <<<"$output")" "$(jq -c -n "[$pid, $(cat "$BATS_TEST_TMPDIR/epid")] | sort")" "ps json after exec"

	run --separate-stderr runtime ps "$id"
	assert_success
	assert_contains "$(head -n1 <<<"$output")" PID "ps table header"
	awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "PID") c = i; next } { print $c }' <<<"$output" |
		grep -qx "$pid" || fail "init pid $pid not in the PID column: $output"
}

@test "ps of a missing container fails" {
	run runtime ps nosuch
	assert_failure
}

@test "a create killed half-way leaves nothing that blocks the id" {
	requires_helper
	set_helper_args pause
	# The createRuntime hook holds create in the middle; then create is killed.
	cat >"$BATS_TEST_TMPDIR/slow-hook" <<-'HOOK'
	#!/bin/sh
	touch "$0.started"
	sleep 30
	HOOK
	chmod +x "$BATS_TEST_TMPDIR/slow-hook"
	set_cfg '.hooks.createRuntime = [{"path": $p}]' --arg p "$BATS_TEST_TMPDIR/slow-hook"
	local id
	id=$(new_id)
	runtime create --bundle "$BUNDLE" "$id" >/dev/null 2>&1 &
	local creator=$!
	retry 100 test -e "$BATS_TEST_TMPDIR/slow-hook.started" || fail "hook did not start"
	kill -9 "$creator"
	wait "$creator" || true
	pkill -f "$BATS_TEST_TMPDIR/slow-hook" || true
	[ -z "$(runtime list -q)" ] || fail "a half-made container is listed: $(runtime list -q)"
	# The same id can be created again, and the killed one's init is gone.
	set_cfg 'del(.hooks)'
	create_ctr "$id"
	assert_eq "$(ctr_status "$id")" created "status of the new container"
	run runtime delete --force "$id"
	assert_success
	[ ! -e "$STATE_ROOT/$id" ] || fail "state dir left: $(ls -la "$STATE_ROOT/$id")"
}
