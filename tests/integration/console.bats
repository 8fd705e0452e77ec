#!/usr/bin/env bats
# terminal: true and --console-socket: the runtime sends the pty master over
# an AF_UNIX socket in one SCM_RIGHTS message, as runc does. A small python
# receiver stands in for containerd/podman's console handling.

load helpers

# start_console SOCK OUT: receive one fd on SOCK and copy what the pty says
# to OUT until the container side closes. Sets CONSOLE_PID.
start_console() {
	requires_python
	cat >"$BATS_TEST_TMPDIR/console.py" <<-'EOF'
		import os, socket, sys
		sock_path, out_path = sys.argv[1], sys.argv[2]
		srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		srv.bind(sock_path)
		srv.listen(1)
		conn, _ = srv.accept()
		msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
		conn.close()
		srv.close()
		if len(fds) != 1:
		    sys.exit("expected one fd, got %d" % len(fds))
		st = os.fstat(fds[0])
		with open(out_path + ".fdinfo", "w") as f:
		    f.write("%d:%d %d\n" % (os.major(st.st_rdev), os.minor(st.st_rdev), os.isatty(fds[0])))
		with open(out_path, "wb", buffering=0) as out:
		    while True:
		        try:
		            data = os.read(fds[0], 4096)
		        except OSError:
		            break
		        if not data:
		            break
		        out.write(data)
	EOF
	/usr/bin/python3 "$BATS_TEST_TMPDIR/console.py" "$1" "$2" </dev/null >"$2.log" 2>&1 3>&- &
	CONSOLE_PID=$!
	bg_pid "$CONSOLE_PID"
	retry 20 test -S "$1" || fail "console receiver did not listen on $1: $(cat "$2.log")"
}

# wait_console: the receiver exits once every holder of the pty's other end
# has gone.
console_done() { ! kill -0 "$CONSOLE_PID" 2>/dev/null; }
wait_console() {
	retry 20 console_done || fail "console receiver still running"
	wait "$CONSOLE_PID" || fail "console receiver failed: $(cat "$1.log")"
}

# The first line that is JSON in pty output (which has \r\n line ends).
pty_json() {
	tr -d '\r' <"$1" | grep -m1 '^{'
}

@test "run --detach --console-socket: the container gets a pty as stdio" {
	requires_helper
	local sock=$BATS_TEST_TMPDIR/console.sock out=$BATS_TEST_TMPDIR/console.out
	start_console "$sock" "$out"
	set_cfg '.process.terminal = true | .process.consoleSize = {"height": 30, "width": 100}'
	set_args /bin/sh -c '/bin/berth-testhelper report; stty size; /bin/berth-testhelper stat /dev/console'
	local id
	id=$(new_id)
	run_files runtime run --detach --console-socket "$sock" --bundle "$BUNDLE" "$id"
	assert_success
	wait_console "$out"

	local dev isatty
	read -r dev isatty <"$out.fdinfo"
	assert_eq "$isatty" 1 "received fd is a tty"
	assert_eq "$dev" 5:2 "received fd's device (a pty master is ptmx, 5:2)"

	local rep
	rep=$(pty_json "$out")
	[ -n "$rep" ] || fail "no report on the console:" "$(cat "$out")"
	assert_json "$rep" '.tty == true'
	assert_json "$rep" '.ttyname | test("^/dev/(pts/[0-9]+|console)$")'
	assert_json "$rep" '[.fds[] | select(.fd <= 2) | .target] | unique | length == 1'
	tr -d '\r' <"$out" | grep -qx '30 100' || fail "stty size is not '30 100':" "$(cat "$out")"
	local con
	con=$(tr -d '\r' <"$out" | grep '"type"' | tail -n1)
	assert_json "$con" '.type == "char" and .major >= 136 and .major <= 143'
}

@test "create --console-socket then start" {
	requires_helper
	local sock=$BATS_TEST_TMPDIR/console.sock out=$BATS_TEST_TMPDIR/console.out
	start_console "$sock" "$out"
	set_cfg '.process.terminal = true'
	set_helper_args report
	local id
	id=$(new_id)
	run_files runtime create --console-socket "$sock" --bundle "$BUNDLE" "$id"
	assert_success
	assert_eq "$(ctr_status "$id")" created status
	run runtime start "$id"
	assert_success
	wait_console "$out"
	assert_json "$(pty_json "$out")" '.tty == true'
}

@test "exec --tty --detach --console-socket" {
	requires_helper
	local id
	id=$(new_id)
	start_pause_ctr "$id"
	local sock=$BATS_TEST_TMPDIR/console.sock out=$BATS_TEST_TMPDIR/console.out
	start_console "$sock" "$out"
	run_files runtime exec --tty --detach --console-socket "$sock" "$id" /bin/berth-testhelper report
	assert_success
	wait_console "$out"
	local rep
	rep=$(pty_json "$out")
	assert_json "$rep" '.tty == true and (.ttyname | test("^/dev/pts/[0-9]+$"))'
}

@test "terminal: false gives no tty and no /dev/console" {
	requires_helper
	helper_report
	assert_eq "$(rj .tty)" false tty
	run_ctr /bin/berth-testhelper stat /dev/console
	assert_success
	assert_json "$output" '.error == "ENOENT"'
}
