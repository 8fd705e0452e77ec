#!/usr/bin/env bats
# hooks: prestart, createRuntime, createContainer, startContainer, poststart,
# poststop; each gets the state JSON on stdin; timeouts and failures.

load helpers

# hook NAME DIR: a hook that saves its stdin to DIR/NAME.json and appends
# NAME to DIR/order. DIR is as the hook sees it (startContainer runs in
# the container).
hook() {
	jq -n -c --arg n "$1" --arg d "$2" \
		'{path: "/bin/sh", args: ["sh", "-c", "cat > \($d)/\($n).json; echo \($n) >> \($d)/order"]}'
}

setup_all_hooks() {
	requires_helper
	HOOKS=$BATS_TEST_TMPDIR/hooks
	mkdir -p "$HOOKS"
	set_cfg '.mounts += [{"destination": "/hooks", "type": "bind", "source": $h, "options": ["bind"]}]
		| .hooks = {
			prestart: [$pre], createRuntime: [$cr], createContainer: [$cc],
			startContainer: [$sc], poststart: [$ps], poststop: [$pst]}' \
		--arg h "$HOOKS" \
		--argjson pre "$(hook prestart "$HOOKS")" \
		--argjson cr "$(hook createRuntime "$HOOKS")" \
		--argjson cc "$(hook createContainer "$HOOKS")" \
		--argjson sc "$(hook startContainer /hooks)" \
		--argjson ps "$(hook poststart "$HOOKS")" \
		--argjson pst "$(hook poststop "$HOOKS")"
}

hook_order() {
	tr '\n' ' ' <"$HOOKS/order" | sed 's/ $//'
}

# check_hook_state NAME ID: the state a hook got names the container.
check_hook_state() {
	local s
	s=$(cat "$HOOKS/$1.json") || fail "hook $1 did not run"
	assert_json "$s" '.ociVersion | test("^1\\.")'
	assert_eq "$(jq -r .id <<<"$s")" "$2" "$1 state id"
	assert_eq "$(jq -r .bundle <<<"$s")" "$BUNDLE" "$1 state bundle"
	assert_json "$s" '.status | IN("creating", "created", "running", "stopped")'
}

@test "hooks run in order, each with the container's state on stdin" {
	setup_all_hooks
	set_helper_args pause
	local id pid
	id=$(new_id)
	create_ctr "$id"
	pid=$(ctr_pid "$id")
	assert_eq "$(head -n3 "$HOOKS/order" | tr '\n' ' ')" "prestart createRuntime createContainer " "hooks run by create"

	runtime start "$id"
	wait_status "$id" running
	has_start_hooks() { grep -qx startContainer "$HOOKS/order" && grep -qx poststart "$HOOKS/order"; }
	retry 20 has_start_hooks || fail "start hooks did not run: $(hook_order)"
	[ "$(wc -l <"$HOOKS/order")" -eq 5 ] || fail "hooks after start: $(hook_order)"

	runtime kill "$id" USR1
	wait_status "$id" stopped
	run runtime delete "$id"
	assert_success
	assert_eq "$(tail -n1 "$HOOKS/order")" poststop "last hook"
	[ "$(wc -l <"$HOOKS/order")" -eq 6 ] || fail "hooks after delete: $(hook_order)"

	local h
	for h in prestart createRuntime createContainer startContainer poststart poststop; do
		check_hook_state "$h" "$id"
	done
	# Hooks in the runtime namespace see the container's host pid.
	for h in prestart createRuntime; do
		assert_eq "$(jq -r .pid "$HOOKS/$h.json")" "$pid" "$h state pid"
		assert_eq "$(jq -r .status "$HOOKS/$h.json")" creating "$h state status"
	done
	assert_eq "$(jq -r .status "$HOOKS/poststop.json")" stopped "poststop state status"
}

@test "poststart runs after start, not during create" {
	skip_unless_berth "runc 1.1 runs poststart hooks during create"
	setup_all_hooks
	set_helper_args pause
	local id
	id=$(new_id)
	create_ctr "$id"
	assert_eq "$(hook_order)" "prestart createRuntime createContainer" "hooks run by create"
	runtime start "$id"
	assert_eq "$(hook_order)" "prestart createRuntime createContainer startContainer poststart" "hooks after start returned"
}

@test "startContainer runs inside the container, before the process" {
	requires_helper
	set_cfg '.hooks.startContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "hostname > /tmp/hook-hostname; echo hook > /tmp/order"]}]'
	set_args /bin/sh -c 'echo process >> /tmp/order'
	local id
	id=$(new_id)
	run --separate-stderr runtime run --bundle "$BUNDLE" "$id"
	assert_success
	assert_eq "$(cat "$BUNDLE/rootfs/tmp/order")" "$(printf 'hook\nprocess')" "order inside the container"
	assert_eq "$(cat "$BUNDLE/rootfs/tmp/hook-hostname")" "$(jq -r .hostname "$BUNDLE/config.json")" "hostname the hook saw"
}

@test "poststop runs when a foreground run ends" {
	requires_helper
	local marker=$BATS_TEST_TMPDIR/poststop.json
	set_cfg '.hooks.poststop = [{"path": "/bin/sh", "args": ["sh", "-c", "cat > \($m)"]}]' --arg m "$marker"
	set_helper_args exit 0
	local id
	id=$(new_id)
	run runtime run --bundle "$BUNDLE" "$id"
	assert_success
	[ -s "$marker" ] || fail "poststop did not run"
	assert_eq "$(jq -r .id "$marker")" "$id" "poststop state id"
}

@test "hooks get their args and env" {
	requires_helper
	local marker=$BATS_TEST_TMPDIR/args
	# argv[0] is args[0]; $0 is the first argument after the script.
	set_cfg '.hooks.createRuntime = [{"path": "/bin/sh",
		"args": ["hookname", "-c", "echo \"$(head -c 8 /proc/$$/cmdline) $0 $HOOK_VAR\" > \($m)", "first"],
		"env": ["HOOK_VAR=from-env"]}]' --arg m "$marker"
	set_helper_args exit 0
	local id
	id=$(new_id)
	run runtime run --bundle "$BUNDLE" "$id"
	assert_success
	assert_eq "$(cat "$marker")" "hookname first from-env" "hook argv and env"
}

@test "a failing createRuntime hook fails create and leaves nothing" {
	requires_helper
	set_cfg '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]'
	set_helper_args pause
	local id
	id=$(new_id)
	run_files runtime create --bundle "$BUNDLE" "$id"
	assert_failure
	run runtime state "$id"
	assert_failure
	[ -z "$(runtime list -q)" ] || fail "listed after a failed create: $(runtime list -q)"
}

@test "a hook past its timeout fails the operation and is killed" {
	requires_helper
	local pidfile=$BATS_TEST_TMPDIR/hook.pid
	set_cfg '.hooks.prestart = [{"path": "/bin/sh", "args": ["sh", "-c", "echo $$ > \($p); exec sleep 60"], "timeout": 1}]' --arg p "$pidfile"
	set_helper_args pause
	local id
	id=$(new_id)
	run_files runtime create --bundle "$BUNDLE" "$id"
	assert_failure
	[[ "$(all_output)" == *time* ]] || fail "error does not mention the timeout: $(all_output)"
	run runtime state "$id"
	assert_failure
	local hpid
	hpid=$(cat "$pidfile")
	retry 10 test ! -d "/proc/$hpid" || fail "timed-out hook $hpid is still running"
}

@test "a hook within its timeout passes" {
	requires_helper
	set_cfg '.hooks.prestart = [{"path": "/bin/true", "args": ["true"], "timeout": 30}]'
	run_ctr /bin/berth-testhelper echo ok
	assert_success
	assert_eq "$output" ok output
}

@test "a hook whose path does not exist fails create" {
	requires_helper
	set_cfg '.hooks.createRuntime = [{"path": "/no/such/hook"}]'
	set_helper_args pause
	local id
	id=$(new_id)
	run_files runtime create --bundle "$BUNDLE" "$id"
	assert_failure
	run runtime state "$id"
	assert_failure
}
