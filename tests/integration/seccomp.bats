#!/usr/bin/env bats
# linux.seccomp: actions, errno values, argument comparisons, exec'd
# processes, load order without no_new_privs, bad profiles, and the notify
# listener receiving the fd with the container process state.

load helpers

# seccomp_profile JSON: sets linux.seccomp to JSON.
seccomp_profile() {
	set_cfg '.linux.seccomp = $p' --argjson p "$1"
}

ALLOW_BUT_MKDIR='{"defaultAction": "SCMP_ACT_ALLOW",
	"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
	"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'

@test "seccomp: a denied syscall fails with EPERM, the filter is in force" {
	requires_helper
	seccomp_profile "$ALLOW_BUT_MKDIR"
	run_ctr /bin/berth-testhelper mkdir /tmp/denied
	assert_success
	assert_eq "$output" EPERM "mkdir under the filter"
	helper_report
	assert_eq "$(rj .seccomp)" 2 "seccomp mode (filter)"
	run_ctr /bin/berth-testhelper write /tmp/allowed hi
	assert_eq "$output" ok "other syscalls still allowed"
}

@test "seccomp: errnoRet and defaultErrnoRet choose the errno" {
	requires_helper
	seccomp_profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}'
	run_ctr /bin/berth-testhelper mkdir /tmp/x
	assert_eq "$output" EACCES "errnoRet 13"
}

@test "seccomp: argument comparisons select the calls" {
	requires_helper
	# kill(pid, SIGUSR1) is refused, kill(pid, 0) is not.
	seccomp_profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["kill"], "action": "SCMP_ACT_ERRNO",
		 "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]}]}'
	run_ctr /bin/berth-testhelper kill 1 USR1
	assert_eq "$output" EPERM "kill with SIGUSR1"
	run_ctr /bin/berth-testhelper kill 1 0
	assert_eq "$output" ok "kill with signal 0"
}

@test "seccomp: loaded without no_new_privs too (before the credentials change)" {
	requires_helper
	seccomp_profile "$ALLOW_BUT_MKDIR"
	set_cfg '.process.noNewPrivileges = false | .process.user = {"uid": 1000, "gid": 1000}'
	helper_report
	assert_eq "$(rj .seccomp)" 2 "seccomp mode"
	assert_eq "$(rj .no_new_privs)" 0 "no_new_privs"
	assert_eq "$(rj .uid)" 1000 "uid"
}

@test "seccomp: exec'd processes get the container's filter" {
	requires_helper
	seccomp_profile "$ALLOW_BUT_MKDIR"
	set_helper_args sleep 60
	local id
	id=$(new_id)
	run_detached "$id"
	wait_status "$id" running
	run runtime exec "$id" /bin/berth-testhelper mkdir /tmp/e
	assert_eq "$output" EPERM "mkdir in exec"
	run runtime exec "$id" /bin/berth-testhelper report
	assert_eq "$(jq .seccomp <<<"$output")" 2 "exec seccomp mode"
}

@test "seccomp: a bad profile fails create, naming what is wrong" {
	seccomp_profile '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_NOPE"]}'
	run_ctr /bin/true
	assert_failure
	assert_contains "$stderr" SCMP_ARCH_NOPE stderr
	[ -z "$(runtime list -q)" ] || fail "left a container: $(runtime list -q)"
	seccomp_profile '{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NOPE"]}'
	run_ctr /bin/true
	assert_failure
	assert_contains "$stderr" SECCOMP_FILTER_FLAG_NOPE stderr
}

@test "seccomp: SCMP_ACT_NOTIFY sends the fd and state to listenerPath" {
	requires_helper
	[ -x /usr/bin/python3 ] || skip "needs /usr/bin/python3 for the listener"
	local sock=$BATS_TEST_TMPDIR/listener.sock got=$BATS_TEST_TMPDIR/got.json
	# The listener takes one connection, records the message and whether an
	# fd came with it, and closes the fd: the pending mkdir then fails ENOSYS.
	python3 - "$sock" "$got" <<'PY' &
import array, json, os, socket, sys
path, out = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
srv.settimeout(30)
conn, _ = srv.accept()
fds = array.array("i")
msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(4 * fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
state = json.loads(msg.decode())
state["received_fds"] = len(fds)
with open(out, "w") as f:
    json.dump(state, f)
for fd in fds:
    os.close(fd)
conn.close()
PY
	local listener=$!
	defer "kill $listener 2>/dev/null || true"
	retry 50 test -S "$sock" || fail "listener did not start"
	set_cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": $s,
		"listenerMetadata": "berth-test-metadata",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}' --arg s "$sock"
	run_ctr /bin/berth-testhelper mkdir /tmp/notified
	assert_success
	assert_eq "$output" ENOSYS "mkdir once the listener closed the fd"
	wait "$listener" || true
	assert_eq "$(jq -r .received_fds "$got")" 1 "fds received"
	assert_eq "$(jq -r '.fds[0]' "$got")" seccompFd "fds names"
	assert_eq "$(jq -r .metadata "$got")" berth-test-metadata metadata
	assert_eq "$(jq -r .state.status "$got")" running "state.status"
	[ "$(jq -r .pid "$got")" -gt 1 ] || fail "pid: $(jq -r .pid "$got")"
}

@test "seccomp: compiled programs are cached per profile, and a bad cache entry is only a miss" {
	skip_unless_berth "the program cache is berth's"
	requires_helper
	local cache=$STATE_ROOT/.seccomp-cache
	seccomp_profile "$ALLOW_BUT_MKDIR"
	run_ctr /bin/berth-testhelper mkdir /tmp/a
	assert_eq "$output" EPERM "first run (compiles)"
	assert_eq "$(ls "$cache" | wc -l)" 1 "cache entries after one profile"
	local entry
	entry=$(ls "$cache")
	run_ctr /bin/berth-testhelper mkdir /tmp/b
	assert_eq "$output" EPERM "second run (from the cache)"
	# A damaged entry must not load a wrong program: it is recompiled.
	printf 'garbage' >"$cache/$entry"
	run_ctr /bin/berth-testhelper mkdir /tmp/c
	assert_eq "$output" EPERM "run after the entry was damaged"
	head -c 8 "$cache/$entry" | grep -q berth || fail "damaged entry was not rewritten"
	# Another profile is another entry; the first still applies as before.
	seccomp_profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}'
	run_ctr /bin/berth-testhelper mkdir /tmp/d
	assert_eq "$output" EACCES "second profile"
	assert_eq "$(ls "$cache" | wc -l)" 2 "cache entries after two profiles"
	# The cache is not a container.
	[ -z "$(runtime list -q)" ] || fail "list shows: $(runtime list -q)"
}
