#!/usr/bin/env bats
# The runtime driven by its real callers: podman 4 (through conmon) and
# containerd 1.6 (through its runc shim, io.containerd.runc.v2), each with
# all of its state under the test's directory. Where it is cheap the same
# commands run with runc ($REF_RUNTIME) and the results are compared.
#
# Runs as root. Skips when podman or containerd is not installed.

load callers-helpers

# podman 4.3 drops --runtime-flag root=... from some calls, so berth-runtime
# also works under its default root; what it leaves there (the seccomp
# program cache) goes with this file, unless the root was there before.
setup_file() {
	[ -e /run/berth-runtime ] && export CALLERS_HAD_DEFAULT_ROOT=1
	return 0
}

teardown_file() {
	[ -n "${CALLERS_HAD_DEFAULT_ROOT:-}" ] && return 0
	rm -rf /run/berth-runtime/.seccomp-cache
	rmdir /run/berth-runtime 2>/dev/null || true
}

setup() {
	callers_setup
}

teardown() {
	callers_teardown
}

# The view from inside a container, for side-by-side comparison: identity,
# cwd, environment, rlimit, umask, capabilities, a bind mount, a read-only
# root, /dev, and each mount with its type and generic flags (fs-specific
# options such as tmpfs sizes and overlay layer paths differ by design).
PROBE='id; pwd; echo "FOO=$FOO"; hostname; ulimit -n; umask
grep -E "^(Cap[A-Za-z]+|NoNewPrivs|Seccomp|Seccomp_filters):" /proc/self/status
echo data >/data/f && cat /data/f
touch /rootfile 2>/dev/null && echo root-rw || echo root-ro
ls /dev | tr "\n" " "; echo
awk "{ n = split(\$4, o, \",\"); f = \"\"
	for (i = 1; i <= n; i++) if (o[i] ~ /^(ro|rw|nosuid|nodev|noexec)\$/) f = f \",\" o[i]
	print \$2, \$3, substr(f, 2) }" /proc/self/mounts | sort'

# probe_filter OUTPUT: drops the seccomp lines when the runtime under test
# has no seccomp support (berth-runtime part 1: docs/runtime.md "Not yet").
probe_filter() {
	if runtime_has_seccomp "$BERTH_RUNTIME"; then
		printf '%s\n' "$1"
	else
		printf '%s\n' "$1" | grep -v '^Seccomp'
	fi
}

# in_pty CMD...: CMD run on a new pseudo-terminal (script(1)); $output is
# what it wrote there, with the terminal's \r removed.
in_pty() {
	command -v script >/dev/null || skip "needs script(1) (bsdutils) for a pty"
	local cmd
	cmd=$(printf '%q ' "$@")
	run env SHELL=/bin/bash script -qec "$cmd" /dev/null </dev/null
	output=${output//$'\r'/}
}

# ---- podman ---------------------------------------------------------------------------

@test "podman run --rm: the command's output, exit status 0" {
	podman_setup

	run --separate-stderr pm_run "$SUT_RT" --rm "$PM_IMAGE" echo hello
	assert_success
	assert_eq "$output" hello "stdout"
	assert_sut_called create
	assert_sut_called start
	assert_sut_called delete

	run --separate-stderr pm_run "$REF_RT" --rm "$PM_IMAGE" echo hello
	assert_success
	assert_eq "$output" hello "stdout with $REF_RUNTIME"

	run --separate-stderr pm_run "$SUT_RT" --rm -i "$PM_IMAGE" sh -c 'cat; echo err >&2' <<<piped
	assert_success
	assert_eq "$output" piped "stdin copied to stdout"
	assert_eq "$stderr" err "stderr"
}

@test "podman run: the exit status and death by a signal propagate" {
	podman_setup
	local rt pid
	for rt in "$SUT_RT" "$REF_RT"; do
		run pm_run "$rt" --rm "$PM_IMAGE" sh -c 'exit 3'
		assert_status 3

		# A pid namespace's init can only be killed from outside it.
		pm_run "$rt" --rm --name killed "$PM_IMAGE" sleep 1000 >"$T/bg.out" 2>&1 3>&- &
		pid=$!
		retry 30 pm_is_running killed ||
			fail "container 'killed' did not start with $rt:" "$(cat "$T/bg.out")" || return 1
		run pm kill --signal KILL killed
		assert_success
		status=0
		wait "$pid" || status=$?
		assert_status 137
	done
	assert_sut_called kill
}

@test "podman run: a missing command exits 127, a non-executable one 126" {
	podman_setup
	local rt
	for rt in "$SUT_RT" "$REF_RT"; do
		# podman maps the runtime's error text to these statuses.
		run -127 --separate-stderr pm_run "$rt" --rm "$PM_IMAGE" nosuchcmd
		assert_contains "$stderr" 'executable file not found in $PATH' "podman's error with $rt"
		run -127 --separate-stderr pm_run "$rt" --rm "$PM_IMAGE" /nonexistent
		assert_contains "${stderr,,}" 'no such file or directory' "podman's error with $rt"
		run -126 --separate-stderr pm_run "$rt" --rm "$PM_IMAGE" /etc/passwd
		assert_contains "${stderr,,}" 'permission denied' "podman's error with $rt"
	done
}

@test "podman run -d, exec, stop and rm" {
	podman_setup

	run --separate-stderr pm_run "$SUT_RT" -d "$PM_IMAGE" sh -c 'trap "exit 7" TERM; sleep 1000 & wait'
	assert_success
	local cid=$output
	run pm inspect --format '{{.State.Status}}' "$cid"
	assert_success
	assert_eq "$output" running "status after run -d"

	run --separate-stderr pm exec "$cid" sh -c 'echo in-exec; exit 5'
	assert_status 5
	assert_eq "$output" in-exec "exec's stdout"
	run --separate-stderr pm exec -u 65534 -w /tmp -e FOO=bar "$cid" sh -c 'echo "$(id -u) $(pwd) $FOO"'
	assert_success
	assert_eq "$output" "65534 /tmp bar" "exec with user, cwd and env"
	run -127 --separate-stderr pm exec "$cid" nosuchcmd
	assert_contains "$stderr" 'executable file not found in $PATH' "podman exec's error"
	assert_sut_called exec

	# SIGTERM reaches the container's init; its exit status is recorded.
	run pm stop --time 20 "$cid"
	assert_success
	run pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$cid"
	assert_eq "$output" "exited 7" "state after stop"
	assert_sut_called kill

	run pm rm "$cid"
	assert_success
	assert_sut_called delete
	assert_eq "$(runtime_states "$BERTH_RUNTIME")" "" "containers the runtime lists after rm"
}

@test "podman stop: SIGKILL after the timeout when the container ignores SIGTERM" {
	podman_setup
	local rt cid
	for rt in "$SUT_RT" "$REF_RT"; do
		# A pid namespace's init ignores signals it has no handler for.
		run --separate-stderr pm_run "$rt" -d "$PM_IMAGE" sleep 1000
		assert_success
		cid=$output
		run --separate-stderr pm stop --time 1 "$cid"
		assert_success
		run pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$cid"
		assert_eq "$output" "exited 137" "state after stop with $rt"
		run pm rm "$cid"
		assert_success
	done
	sut_calls | grep -q 'kill .* 9$' || fail "podman never sent SIGKILL through the runtime"
}

@test "podman run -t: the command runs on a terminal" {
	podman_setup
	local rt
	for rt in "$SUT_RT" "$REF_RT"; do
		in_pty env "${PM_ENV[@]}" timeout -k 5 "$CALLERS_TIMEOUT" \
			podman run --runtime "$rt" "${PM_RUN_FLAGS[@]}" --rm -t "$PM_IMAGE" sh -c 'tty; test -t 0 && test -t 1 && echo on-a-tty; exit 4'
		assert_status 4
		assert_contains "$output" /dev/pts/ "tty's answer with $rt"
		assert_contains "$output" on-a-tty "terminal check with $rt"
	done
	sut_calls | grep -q -- '--console-socket' || fail "podman did not ask the runtime for a terminal"
}

@test "podman run: the container sees what it sees under runc" {
	podman_setup
	mkdir -m 777 "$T/vol"
	local flags=(--rm -u 1:1 -w /tmp -e FOO=bar --hostname probe -v "$T/vol:/data" --read-only)

	run --separate-stderr pm_run "$SUT_RT" "${flags[@]}" "$PM_IMAGE" sh -c "$PROBE"
	assert_success
	local sut=$output
	run --separate-stderr pm_run "$REF_RT" "${flags[@]}" "$PM_IMAGE" sh -c "$PROBE"
	assert_success
	local ref=$output

	assert_contains "$sut" "uid=1(daemon) gid=1(daemon)" "identity"
	assert_contains "$sut" "FOO=bar" "environment"
	assert_contains "$sut" "root-ro" "read-only root"
	assert_eq "$(cat "$T/vol/f")" data "file written through the bind mount"
	assert_same_output "the view from inside" "$(probe_filter "$sut")" "$(probe_filter "$ref")"
}

# Every run must start, not most: a race between `create` returning and the
# container's init finishing its set-up shows up as an occasional failure.
@test "podman run: ten runs in a row all start" {
	podman_setup
	local try # not i: bats' run (bats_version_lt) assigns a global i
	for try in $(seq 10); do
		run --separate-stderr pm_run "$SUT_RT" --rm "$PM_IMAGE" true
		[ "$status" -eq 0 ] || {
			show_run
			fail "run $try of 10 failed"
			return 1
		}
	done
}

@test "podman run: the container runs in the cgroup podman asks for, with its limits" {
	runtime_has_cgroups || skip "$BERTH_RUNTIME does not support cgroups here (features: .linux.cgroup)"
	podman_setup

	run --separate-stderr pm_run "$SUT_RT" --rm --pids-limit 123 "$PM_IMAGE" \
		sh -c 'grep -E ":(pids|memory):" /proc/self/cgroup; cat /sys/fs/cgroup/pids/pids.max'
	assert_success
	local want="/$PM_CGROUP_PARENT/libpod-"
	[ "$(grep -c ":$want" <<<"$output")" -eq 2 ] || fail "not in a $want* cgroup:" "$output"
	assert_eq "$(tail -1 <<<"$output")" 123 "pids.max"
}

# ---- containerd -----------------------------------------------------------------------

@test "ctr run --rm: the command's output, exit status 0" {
	containerd_setup

	run --separate-stderr cctr_run "$SUT_RT" --rm "$CD_IMAGE" "$(ctr_id)" echo hello
	assert_success
	assert_eq "$output" hello "stdout"
	assert_sut_called create
	assert_sut_called start
	assert_sut_called delete

	run --separate-stderr cctr_run "$REF_RT" --rm "$CD_IMAGE" "$(ctr_id)" echo hello
	assert_success
	assert_eq "$output" hello "stdout with $REF_RUNTIME"

	run --separate-stderr cctr_run "$SUT_RT" --rm "$CD_IMAGE" "$(ctr_id)" sh -c 'echo out; echo err >&2'
	assert_success
	assert_eq "$output" out "stdout"
	assert_eq "$stderr" err "stderr"
}

@test "ctr run: the exit status and death by a signal propagate" {
	containerd_setup
	local rt pid id
	for rt in "$SUT_RT" "$REF_RT"; do
		run cctr_run "$rt" --rm "$CD_IMAGE" "$(ctr_id)" sh -c 'exit 3'
		assert_status 3

		# A pid namespace's init can only be killed from outside it.
		id=$(ctr_id)
		cctr_run "$rt" --rm "$CD_IMAGE" "$id" sleep 1000 >"$T/bg.out" 2>&1 3>&- &
		pid=$!
		retry 30 ctr_is_running "$id" ||
			fail "task $id did not start with $rt:" "$(cat "$T/bg.out")" || return 1
		run cctr task kill --signal SIGKILL "$id"
		assert_success
		status=0
		wait "$pid" || status=$?
		assert_status 137
	done
	assert_sut_called kill
}

@test "ctr run: a missing command fails with the runtime's error" {
	containerd_setup
	local rt
	for rt in "$SUT_RT" "$REF_RT"; do
		run --separate-stderr cctr_run "$rt" --rm "$CD_IMAGE" "$(ctr_id)" nosuchcmd
		assert_failure
		assert_contains "$stderr" 'executable file not found in $PATH' "ctr's error with $rt"
	done
}

@test "ctr run -d, task exec, ps, kill and delete" {
	containerd_setup
	local id
	id=$(ctr_id)

	run --separate-stderr cctr_run "$SUT_RT" -d "$CD_IMAGE" "$id" sh -c 'trap "exit 7" TERM; sleep 1000 & wait'
	assert_success
	retry 20 ctr_task_is "$id" RUNNING || fail "task is not running after run -d: $(cctr task ls)"

	run --separate-stderr cctr task exec --fifo-dir "$CD_DIR/fifo" --exec-id x1 "$id" sh -c 'echo in-exec; exit 5'
	assert_status 5
	assert_eq "$output" in-exec "exec's stdout"
	run --separate-stderr cctr task exec --fifo-dir "$CD_DIR/fifo" --exec-id x2 --user 65534 --cwd /tmp "$id" \
		sh -c 'echo "$(id -u) $(pwd)"'
	assert_success
	assert_eq "$output" "65534 /tmp" "exec with user and cwd"
	run --separate-stderr cctr task exec --fifo-dir "$CD_DIR/fifo" --exec-id x3 "$id" nosuchcmd
	assert_failure
	assert_contains "$stderr" 'executable file not found in $PATH' "ctr task exec's error"
	assert_sut_called exec

	# The init and its sleep: the shim asks the runtime (`ps --format json`).
	run --separate-stderr cctr task ps "$id"
	assert_success
	[ "$(grep -c '^[0-9]' <<<"$output")" -ge 2 ] || fail "task ps lists fewer than 2 processes:" "$output"
	assert_sut_called ps

	# SIGTERM reaches the container's init; its exit status is recorded.
	run cctr task kill "$id"
	assert_success
	retry 20 ctr_task_is "$id" STOPPED || fail "task did not stop after SIGTERM: $(cctr task ls)"
	assert_sut_called kill
	run --separate-stderr cctr task delete "$id"
	assert_success
	assert_contains "$stderr" "exit code 7" "task delete's report"
	run cctr containers rm "$id"
	assert_success
	assert_sut_called delete
	assert_eq "$(runtime_states "$BERTH_RUNTIME" "$CD_DIR/runc-root/$CD_NS")" "" \
		"containers the runtime lists after delete"
}

@test "ctr run -t: the command runs on a terminal" {
	containerd_setup
	local rt
	for rt in "$SUT_RT" "$REF_RT"; do
		in_pty timeout -k 5 "$CALLERS_TIMEOUT" ctr -a "$CD_SOCK" -n "$CD_NS" run --runc-binary "$rt" \
			--runc-root "$CD_DIR/runc-root" --fifo-dir "$CD_DIR/fifo" --snapshotter "$CD_SNAPSHOTTER" \
			--rm -t "$CD_IMAGE" "$(ctr_id)" sh -c 'tty; test -t 0 && test -t 1 && echo on-a-tty; exit 4'
		assert_status 4
		assert_contains "$output" /dev/pts/ "tty's answer with $rt"
		assert_contains "$output" on-a-tty "terminal check with $rt"
	done
	sut_calls | grep -q -- '--console-socket' || fail "the shim did not ask the runtime for a terminal"
}

@test "ctr run: the container sees what it sees under runc" {
	containerd_setup
	mkdir -m 777 "$T/vol"
	local flags=(--rm --env FOO=bar --cwd /tmp --read-only
		--mount "type=bind,src=$T/vol,dst=/data,options=rbind:rw")

	run --separate-stderr cctr_run "$SUT_RT" "${flags[@]}" "$CD_IMAGE" "$(ctr_id)" sh -c "$PROBE"
	assert_success
	local sut=$output
	run --separate-stderr cctr_run "$REF_RT" "${flags[@]}" "$CD_IMAGE" "$(ctr_id)" sh -c "$PROBE"
	assert_success
	local ref=$output

	assert_contains "$sut" "FOO=bar" "environment"
	assert_contains "$sut" "root-ro" "read-only root"
	assert_eq "$(cat "$T/vol/f")" data "file written through the bind mount"
	assert_same_output "the view from inside" "$(probe_filter "$sut")" "$(probe_filter "$ref")"
}

# As for podman: a create/start race fails some runs, not all.
@test "ctr run: twenty runs in a row all start" {
	containerd_setup
	local try # not i: bats' run (bats_version_lt) assigns a global i
	for try in $(seq 20); do
		run --separate-stderr cctr_run "$SUT_RT" --rm "$CD_IMAGE" "$(ctr_id)" true
		[ "$status" -eq 0 ] || {
			show_run
			fail "run $try of 20 failed"
			return 1
		}
	done
}

@test "ctr run: the task runs in the cgroup containerd asks for" {
	runtime_has_cgroups || skip "$BERTH_RUNTIME does not support cgroups here (features: .linux.cgroup)"
	containerd_setup
	local id
	id=$(ctr_id)

	run --separate-stderr cctr_run "$SUT_RT" --rm "$CD_IMAGE" "$id" grep -E ':(pids|memory):' /proc/self/cgroup
	assert_success
	[ "$(grep -c ":/$CD_NS/$id\$" <<<"$output")" -eq 2 ] || fail "not in the /$CD_NS/$id cgroup:" "$output"
}
