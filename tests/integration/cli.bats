#!/usr/bin/env bats
# The command line outside the lifecycle: --version, global flags, spec,
# features.

load helpers

@test "--version: runc's layout, name version, commit, spec" {
	run --separate-stderr "$BERTH_RUNTIME" --version
	assert_success
	local first
	first=$(head -n1 <<<"$output")
	[ "$(wc -l <<<"$output")" -ge 3 ] || fail "expected at least 3 lines:" "$output"
	[[ "$first" =~ ^[a-z][a-z0-9-]*\ version\ [0-9][^\ ]*$ ]] || fail "first line is not '<name> version X': $first"
	if is_berth; then
		assert_eq "${first%% *}" berth-runtime "name on the first line"
	fi
	grep -q '^commit: ' <<<"$output" || fail "no 'commit: ' line:" "$output"
	grep -Eq '^spec: 1\.[0-9]+\.[0-9]+' <<<"$output" || fail "no 'spec: 1.x.y' line:" "$output"
}

@test "--root=DIR and --root DIR select the state directory" {
	requires_helper
	local id
	id=$(new_id)
	start_pause_ctr "$id"

	run --separate-stderr "$BERTH_RUNTIME" --root="$STATE_ROOT" list -q
	assert_success
	assert_eq "$output" "$id" "list -q with --root=DIR"
	run --separate-stderr "$BERTH_RUNTIME" --root "$STATE_ROOT" state "$id"
	assert_success
	assert_json "$output" '.status == "running"'

	mkdir "$BATS_TEST_TMPDIR/other-root"
	run --separate-stderr "$BERTH_RUNTIME" --root "$BATS_TEST_TMPDIR/other-root" list -q
	assert_success
	assert_eq "$output" "" "list -q under another root"
	run "$BERTH_RUNTIME" --root "$BATS_TEST_TMPDIR/other-root" state "$id"
	assert_failure
}

@test "--log FILE --log-format json: an error is a JSON line with level and msg" {
	local log=$BATS_TEST_TMPDIR/log.json
	run "$BERTH_RUNTIME" --root "$STATE_ROOT" --log "$log" --log-format json state nosuch
	assert_failure
	[ -s "$log" ] || fail "log file $log is empty"
	local line
	while IFS= read -r line; do
		jq -e 'type == "object" and (.level | type == "string") and (.msg | type == "string")' >/dev/null <<<"$line" ||
			fail "log line is not a JSON object with level and msg: $line"
	done <"$log"
	jq -se 'any(.[]; .level == "error" and (.msg | contains("does not exist")))' "$log" >/dev/null ||
		fail "no error line about the missing container:" "$(cat "$log")"
}

@test "--log=FILE --log-format=json (= forms)" {
	local log=$BATS_TEST_TMPDIR/log.json
	run "$BERTH_RUNTIME" --root="$STATE_ROOT" --log="$log" --log-format=json state nosuch
	assert_failure
	jq -se 'length > 0 and all(.[]; has("level") and has("msg")) and any(.[]; .level == "error")' "$log" >/dev/null ||
		fail "log is not JSON lines with an error:" "$(cat "$log")"
}

@test "--log-format text writes the error to the log file" {
	local log=$BATS_TEST_TMPDIR/log.txt
	run "$BERTH_RUNTIME" --root "$STATE_ROOT" --log "$log" --log-format text state nosuch
	assert_failure
	grep -q 'does not exist' "$log" || fail "no error in the text log:" "$(cat "$log")"
	if jq -e . "$log" >/dev/null 2>&1; then
		fail "text log is JSON:" "$(cat "$log")"
	fi
}

@test "--debug logs debug lines; without it there are none" {
	requires_helper
	set_helper_args exit 0
	local id log=$BATS_TEST_TMPDIR/debug.json
	id=$(new_id)
	run --separate-stderr "$BERTH_RUNTIME" --root "$STATE_ROOT" --log "$log" --log-format json --debug run --bundle "$BUNDLE" "$id"
	assert_success
	jq -se 'any(.[]; .level == "debug")' "$log" >/dev/null || fail "no debug line with --debug:" "$(cat "$log")"

	log=$BATS_TEST_TMPDIR/nodebug.json
	id=$(new_id)
	run --separate-stderr "$BERTH_RUNTIME" --root "$STATE_ROOT" --log "$log" --log-format json run --bundle "$BUNDLE" "$id"
	assert_success
	if [ -s "$log" ]; then
		jq -se 'all(.[]; .level != "debug")' "$log" >/dev/null || fail "debug lines without --debug:" "$(cat "$log")"
	fi
}

@test "--systemd-cgroup is accepted as a global flag" {
	run --separate-stderr "$BERTH_RUNTIME" --systemd-cgroup --root "$STATE_ROOT" list -q
	assert_success
}

@test "--cgroup-manager cgroupfs|systemd|disabled (crun's flag) is accepted" {
	skip_unless_berth "runc 1.1 has no --cgroup-manager"
	local m
	for m in cgroupfs systemd disabled; do
		run --separate-stderr "$BERTH_RUNTIME" --cgroup-manager "$m" --root "$STATE_ROOT" list -q
		assert_success
		run --separate-stderr "$BERTH_RUNTIME" --cgroup-manager="$m" --root "$STATE_ROOT" list -q
		assert_success
	done
	run "$BERTH_RUNTIME" --cgroup-manager bogus --root "$STATE_ROOT" list -q
	assert_failure
}

@test "an unknown command or flag fails" {
	run "$BERTH_RUNTIME" --root "$STATE_ROOT" no-such-command
	assert_failure
	run "$BERTH_RUNTIME" --root "$STATE_ROOT" --no-such-flag list
	assert_failure
	run "$BERTH_RUNTIME" --root "$STATE_ROOT" list --no-such-flag
	assert_failure
}

@test "spec writes a default config.json that runs as is" {
	requires_helper
	local dir=$BATS_TEST_TMPDIR/spec
	mkdir "$dir"
	cd "$dir"
	run runtime spec
	assert_success
	[ -f config.json ] || fail "no config.json"
	local c
	c=$(cat config.json)
	assert_json "$c" '.ociVersion | test("^1\\.")'
	assert_json "$c" '.root.path == "rootfs"'
	assert_json "$c" '.process.terminal == true'
	assert_json "$c" '.process.args == ["sh"]'
	assert_json "$c" '.process.cwd == "/"'
	assert_json "$c" '.process.user.uid == 0 and .process.user.gid == 0'
	assert_json "$c" '.process.env | any(startswith("PATH="))'
	assert_json "$c" '[.linux.namespaces[].type] | contains(["pid", "network", "ipc", "uts", "mount"])'
	assert_json "$c" '[.mounts[].destination] | contains(["/proc", "/dev", "/dev/pts", "/dev/shm", "/sys"])'
	assert_json "$c" '.linux.maskedPaths | length > 0'
	assert_json "$c" '.linux.readonlyPaths | length > 0'
	assert_json "$c" '.process.capabilities.bounding | length > 0'

	# The default spec runs the rootfs once terminal is off.
	cp -a "$ROOTFS_CACHE" rootfs
	echo "$dir/rootfs" >>"$BATS_TEST_TMPDIR/rootfses"
	CFG_FILE=$dir/config.json set_cfg '.process.terminal = false | .process.args = ["/bin/berth-testhelper", "echo", "ok"]'
	local id
	id=$(new_id)
	run --separate-stderr runtime run "$id"
	assert_success
	assert_eq "$output" ok "container output"
}

@test "spec refuses to overwrite an existing config.json" {
	local dir=$BATS_TEST_TMPDIR/spec
	mkdir "$dir"
	echo '{"mine": true}' >"$dir/config.json"
	cd "$dir"
	run runtime spec
	assert_failure
	assert_eq "$(cat config.json)" '{"mine": true}' "config.json after a refused spec"
}

@test "spec --bundle / -b writes into another directory" {
	mkdir "$BATS_TEST_TMPDIR/b1" "$BATS_TEST_TMPDIR/b2"
	run runtime spec --bundle "$BATS_TEST_TMPDIR/b1"
	assert_success
	run runtime spec -b "$BATS_TEST_TMPDIR/b2"
	assert_success
	jq -e .ociVersion "$BATS_TEST_TMPDIR/b1/config.json" >/dev/null || fail "no config.json in b1"
	jq -e .ociVersion "$BATS_TEST_TMPDIR/b2/config.json" >/dev/null || fail "no config.json in b2"
}

@test "spec --rootless: user namespace mapping the caller, no network namespace" {
	local dir=$BATS_TEST_TMPDIR/spec
	mkdir "$dir"
	cd "$dir"
	run runtime spec --rootless
	assert_success
	local c
	c=$(cat config.json)
	assert_json "$c" '[.linux.namespaces[].type] | contains(["user", "mount", "pid"])'
	assert_json "$c" '[.linux.namespaces[].type] | index("network") == null'
	assert_json "$c" ".linux.uidMappings == [{\"containerID\": 0, \"hostID\": $(id -u), \"size\": 1}]"
	assert_json "$c" ".linux.gidMappings == [{\"containerID\": 0, \"hostID\": $(id -g), \"size\": 1}]"
	assert_json "$c" '.linux.resources == null or .linux.resources.devices == null'
}

@test "features: the runtime-spec features document" {
	run --separate-stderr runtime features
	assert_success
	local f=$output
	assert_json "$f" '.ociVersionMin | test("^1\\.[0-9]+\\.[0-9]+")'
	assert_json "$f" '.ociVersionMax | test("^1\\.[0-9]+\\.[0-9]+")'
	assert_json "$f" '.hooks | contains(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])'
	assert_json "$f" '.mountOptions | contains(["ro", "rw", "bind", "rbind", "rro", "nosuid", "nodev", "noexec", "private", "rprivate", "slave", "rslave", "shared", "rshared"])'
	assert_json "$f" '.linux.namespaces | contains(["pid", "network", "mount", "ipc", "uts", "user", "cgroup"])'
	assert_json "$f" '.linux.capabilities | contains(["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_RAW", "CAP_CHECKPOINT_RESTORE"])'
	if is_berth; then
		# runc 1.1 has neither the time namespace nor spec 1.2.
		assert_json "$f" '.linux.namespaces | index("time") != null'
		assert_json "$f" '.ociVersionMax | test("^1\\.([2-9]|[1-9][0-9])\\.")'
	fi
}
