#!/usr/bin/env bats
# exec: a new process in a running container, with every flag.

load helpers

# A running container whose process config differs from the defaults in
# ways exec must inherit or override.
setup_exec_ctr() {
	requires_helper
	set_cfg '.process.noNewPrivileges = false
		| .process.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "FROM_CONFIG=1"]
		| .process.cwd = "/"'
	CID=$(new_id)
	start_pause_ctr "$CID"
}

exec_report() {
	run --separate-stderr runtime exec "$@"
	[ "$status" -eq 0 ] || {
		show_run
		fail "exec failed"
		return 1
	}
	REPORT=$output
	jq -e 'type == "object"' >/dev/null <<<"$REPORT" || fail "exec report is not JSON: $REPORT"
}

@test "exec runs in the container's namespaces with its config" {
	setup_exec_ctr
	local pid
	pid=$(ctr_pid "$CID")
	exec_report "$CID" /bin/berth-testhelper report
	local ns
	for ns in pid net mnt ipc uts; do
		assert_eq "$(rj ".ns.$ns")" "$(readlink "/proc/$pid/ns/$ns")" "$ns namespace of exec vs init"
	done
	[ "$(rj .pid)" -gt 1 ] || fail "exec'd process has pid $(rj .pid) in the container"
	assert_eq "$(rj .cwd)" / cwd
	assert_eq "$(rj .uid):$(rj .gid)" 0:0 "uid:gid"
	assert_eq "$(rj '.env | index("FROM_CONFIG=1") != null')" true "config env inherited"
	assert_eq "$(rj .hostname)" "$(jq -r .hostname "$BUNDLE/config.json")" hostname
	assert_eq "$(rj '[.fds[].fd] | join(",")')" 0,1,2 "open fds"
}

@test "exec args resolved through PATH; output and exit status" {
	setup_exec_ctr
	run --separate-stderr runtime exec "$CID" berth-testhelper echo a "b c"
	assert_success
	assert_eq "$output" "a b c" "exec output"
	run runtime exec "$CID" /bin/berth-testhelper exit 7
	assert_status 7
	run runtime exec "$CID" /bin/sh -c 'exit 42'
	assert_status 42
}

@test "exec of a missing executable fails with the not-found message" {
	setup_exec_ctr
	run_files runtime exec "$CID" nosuchbinary
	assert_failure
	assert_contains "$stderr" 'executable file not found in $PATH' "stderr"
	run_files runtime exec "$CID" /no/such/binary
	assert_failure
	assert_contains "$stderr" "no such file or directory" "stderr"
	assert_eq "$(ctr_status "$CID")" running "container status after failed exec"
}

@test "exec --cwd, --env, --user" {
	setup_exec_ctr
	exec_report --cwd /tmp --env FOO=bar --env BAZ=with=equals --user 1000:1001 "$CID" /bin/berth-testhelper report
	assert_eq "$(rj .cwd)" /tmp cwd
	assert_eq "$(rj '.env | index("FOO=bar") != null')" true "FOO in env"
	assert_eq "$(rj '.env | index("BAZ=with=equals") != null')" true "BAZ in env"
	assert_eq "$(rj '.env | index("FROM_CONFIG=1") != null')" true "config env kept"
	assert_eq "$(rj '[.uid, .euid, .gid, .egid] | join(",")')" 1000,1000,1001,1001 "ids"

	exec_report --cwd=/etc --env=FOO=override -u 2 "$CID" /bin/berth-testhelper report
	assert_eq "$(rj .cwd)" /etc "cwd (= form)"
	assert_eq "$(rj '[.env[] | select(startswith("FOO="))] | join(",")')" FOO=override "FOO (= form)"
	assert_eq "$(rj .uid)" 2 "uid (-u)"
}

@test "exec --env overrides a config variable" {
	setup_exec_ctr
	exec_report --env FROM_CONFIG=2 "$CID" /bin/berth-testhelper report
	assert_eq "$(rj '[.env[] | select(startswith("FROM_CONFIG="))] | join(",")')" FROM_CONFIG=2 "FROM_CONFIG"
}

@test "exec --cap adds a capability; --no-new-privs sets no_new_privs" {
	setup_exec_ctr
	exec_report "$CID" /bin/berth-testhelper report
	assert_eq "$(rj .no_new_privs)" 0 "no_new_privs without the flag"
	assert_eq "$(rj '.caps.bounding | index("CAP_SYS_ADMIN")')" null "CAP_SYS_ADMIN without --cap"

	exec_report --cap CAP_SYS_ADMIN --no-new-privs "$CID" /bin/berth-testhelper report
	assert_eq "$(rj .no_new_privs)" 1 "no_new_privs with --no-new-privs"
	assert_eq "$(rj '.caps.bounding | index("CAP_SYS_ADMIN") != null')" true "CAP_SYS_ADMIN in bounding"
	assert_eq "$(rj '.caps.effective | index("CAP_SYS_ADMIN") != null')" true "CAP_SYS_ADMIN in effective"
	assert_eq "$(rj '.caps.bounding | index("CAP_KILL") != null')" true "config caps kept"
	assert_eq "$(rj '.caps.inheritable')" "[]" "inheritable"
}

@test "exec --process FILE takes the whole process from a file" {
	setup_exec_ctr
	cat >"$BATS_TEST_TMPDIR/process.json" <<-'EOF'
		{
			"terminal": false,
			"args": ["berth-testhelper", "report"],
			"env": ["PATH=/bin", "ONLY=this"],
			"cwd": "/etc",
			"user": {"uid": 2, "gid": 3, "additionalGids": [4]},
			"noNewPrivileges": true,
			"capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}
		}
	EOF
	exec_report --process "$BATS_TEST_TMPDIR/process.json" "$CID"
	assert_eq "$(rj .cwd)" /etc cwd
	assert_eq "$(rj '[.uid, .gid] | join(":")')" 2:3 "uid:gid"
	assert_eq "$(rj '.groups | join(",")')" 4 groups
	assert_eq "$(rj '.env | index("ONLY=this") != null')" true "ONLY in env"
	assert_eq "$(rj '.env | index("FROM_CONFIG=1")')" null "config env is not merged into --process"
	assert_eq "$(rj .no_new_privs)" 1 no_new_privs
	assert_eq "$(rj '.caps.bounding | join(",")')" CAP_KILL bounding

	exec_report -p "$BATS_TEST_TMPDIR/process.json" "$CID"
	assert_eq "$(rj .cwd)" /etc "cwd (-p)"
}

@test "exec --detach returns at once; --pid-file has the process's pid" {
	setup_exec_ctr
	run_files runtime exec --detach --pid-file "$BATS_TEST_TMPDIR/epid" "$CID" /bin/sh -c 'echo done > /tmp/detached; exec /bin/berth-testhelper sleep 1000'
	assert_success
	retry 20 test -e "$BUNDLE/rootfs/tmp/detached" || fail "detached process did not run"
	local epid
	epid=$(cat "$BATS_TEST_TMPDIR/epid")
	[[ "$epid" =~ ^[1-9][0-9]*$ ]] || fail "pid file: '$epid'"
	assert_eq "$(stat -c %s "$BATS_TEST_TMPDIR/epid")" "${#epid}" "pid file size (no newline)"
	assert_eq "$(tr '\0' ' ' <"/proc/$epid/cmdline")" "/bin/berth-testhelper sleep 1000 " "cmdline of the pid-file process"
	runtime ps --format json "$CID" | jq -e --argjson p "$epid" 'index($p) != null' >/dev/null ||
		fail "exec pid $epid not in ps: $(runtime ps --format json "$CID")"

	run_files runtime exec -d "$CID" /bin/berth-testhelper write /tmp/short ok
	assert_success
	retry 20 test -e "$BUNDLE/rootfs/tmp/short" || fail "exec -d process did not run"
}

@test "exec --preserve-fds passes extra fds, without it none leak" {
	setup_exec_ctr
	echo content >"$BATS_TEST_TMPDIR/f3"
	run --separate-stderr runtime_keep_fds exec --preserve-fds 1 "$CID" /bin/berth-testhelper report 3<"$BATS_TEST_TMPDIR/f3"
	assert_success
	assert_eq "$(jq -r '[.fds[].fd] | join(",")' <<<"$output")" 0,1,2,3 "fds with --preserve-fds 1"

	run --separate-stderr runtime_keep_fds exec --preserve-fds 1 "$CID" /bin/sh -c 'cat <&3' 3<"$BATS_TEST_TMPDIR/f3"
	assert_success
	assert_eq "$output" content "read from fd 3"

	run --separate-stderr runtime_keep_fds exec "$CID" /bin/berth-testhelper report 3<"$BATS_TEST_TMPDIR/f3" 4<"$BATS_TEST_TMPDIR/f3" 9>/dev/null
	assert_success
	assert_eq "$(jq -r '[.fds[].fd] | join(",")' <<<"$output")" 0,1,2 "fds without --preserve-fds"
}

@test "exec in a stopped or missing container fails" {
	requires_helper
	set_helper_args exit 0
	local id
	id=$(new_id)
	run_detached "$id"
	wait_status "$id" stopped
	run runtime exec "$id" /bin/berth-testhelper echo hi
	assert_failure
	run runtime exec nosuch /bin/berth-testhelper echo hi
	assert_failure
}

@test "exec'd processes die with the container" {
	setup_exec_ctr
	run_files runtime exec -d --pid-file "$BATS_TEST_TMPDIR/epid" "$CID" /bin/berth-testhelper sleep 1000
	assert_success
	local epid
	epid=$(cat "$BATS_TEST_TMPDIR/epid")
	run runtime kill "$CID" KILL
	assert_success
	wait_status "$CID" stopped
	retry 10 test ! -d "/proc/$epid" || fail "exec'd process $epid outlived its container"
}
