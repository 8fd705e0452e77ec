#!/usr/bin/env bats
# Rootless: an unprivileged user runs containers. A map of the user's own
# id is written directly; any other goes through newuidmap/newgidmap and the
# ranges /etc/subuid and /etc/subgid grant. State lives under
# $XDG_RUNTIME_DIR; cgroup limits that cannot be applied are a warning.
#
# Runs as root: setup_file makes a user with a subordinate range of its own,
# and teardown_file removes both, whatever happened in between.

load helpers

RL_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# A start for a 65536-id range that no entry of /etc/subuid or /etc/subgid
# touches.
free_subid_start() {
	local start=300000
	while cat /etc/subuid /etc/subgid 2>/dev/null |
		awk -F: -v s="$start" 'NF == 3 && $2 < s + 65536 && s < $2 + $3 { hit = 1 } END { exit !hit }'; do
		start=$((start + 65536))
	done
	echo "$start"
}

setup_file() {
	command -v newuidmap >/dev/null && command -v newgidmap >/dev/null ||
		skip "needs newuidmap and newgidmap (package uidmap)"
	export RL_USER=berth-rl-$$
	# Written first: teardown_file removes whatever of this got made.
	echo "$RL_USER" >"$BATS_FILE_TMPDIR/rl-user"
	# No automatic subordinate range: the test grants its own.
	useradd -M -d "$BATS_FILE_TMPDIR/home" -s /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$RL_USER"
	RL_UID=$(id -u "$RL_USER")
	RL_GID=$(id -g "$RL_USER")
	RL_SUB=$(free_subid_start)
	echo "$RL_USER:$RL_SUB:65536" >>/etc/subuid
	echo "$RL_USER:$RL_SUB:65536" >>/etc/subgid
	export RL_UID RL_GID RL_SUB
	# The user must be able to run the runtime: a copy where it can reach it.
	local d=$BATS_FILE_TMPDIR
	while [ "$d" != / ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
	export RL_RUNTIME=$BATS_FILE_TMPDIR/$(basename "$BERTH_RUNTIME")
	cp "$BERTH_RUNTIME" "$RL_RUNTIME"
	chmod 755 "$RL_RUNTIME"
}

teardown_file() {
	local user
	user=$(cat "$BATS_FILE_TMPDIR/rl-user" 2>/dev/null) || return 0
	[ -n "$user" ] || return 0
	userdel -f "$user" 2>/dev/null || true
	sed -i "/^$user:/d" /etc/subuid /etc/subgid
}

# as_user CMD...: CMD as the test user, with a clean environment and its
# own XDG_RUNTIME_DIR.
as_user() {
	setpriv --reuid="$RL_UID" --regid="$RL_GID" --init-groups \
		env -i PATH="$RL_PATH" HOME="$BATS_FILE_TMPDIR/home" XDG_RUNTIME_DIR="$RL_XDG" "$@"
}

# rl_runtime ARGS...: the runtime under test as the test user, with its
# default state root.
rl_runtime() {
	as_user timeout -k 5 "$BERTH_TEST_TIMEOUT" "$RL_RUNTIME" "$@" 3>&-
}

# The user's state root: where the runtime keeps containers by default.
rl_state_root() {
	if is_berth; then
		echo "$RL_XDG/berth-runtime"
	else
		echo "$RL_XDG/$(basename "$BERTH_RUNTIME")"
	fi
}

rl_status() {
	rl_runtime state "$1" 2>/dev/null | jq -r .status
}

rl_status_is() {
	[ "$(rl_status "$1")" = "$2" ]
}

# rl_run_detached ID: `run --detach` as the user, stdio to files.
rl_run_detached() {
	rl_runtime run --detach --bundle "$BUNDLE" "$1" </dev/null >"$(ctr_out "$1")" 2>"$(ctr_err "$1")" || {
		local rc=$?
		cat "$(ctr_err "$1")" >&2
		fail "run --detach $1 as $RL_USER failed with status $rc"
		return $rc
	}
	retry 20 rl_status_is "$1" running || fail "container $1 is not running: $(rl_status "$1")"
}

eval "helpers_$(declare -f setup)"
eval "helpers_$(declare -f teardown)"

# helpers' bundle, made the user's, with the config `spec --rootless` gives it.
setup() {
	local d
	helpers_setup
	RL_XDG=$BATS_TEST_TMPDIR/xdg
	mkdir -m 700 "$RL_XDG"
	chown "$RL_UID:$RL_GID" "$RL_XDG"
	rm "$BUNDLE/config.json"
	chown -R "$RL_UID:$RL_GID" "$BUNDLE"
	d=$BATS_TEST_TMPDIR
	while [ "$d" != / ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
	as_user "$RL_RUNTIME" spec --rootless --bundle "$BUNDLE" ||
		fail "spec --rootless as $RL_USER failed"
}

teardown() {
	local rc=0 id
	for id in $(cat "$BATS_TEST_TMPDIR/ids"); do
		rl_runtime delete --force "$id" >/dev/null 2>&1 || true
		if [ -e "$(rl_state_root)/$id" ]; then
			echo "teardown: state left behind: $(rl_state_root)/$id" >&2
			rc=1
		fi
	done
	helpers_teardown || rc=1
	return $rc
}

# The id map as the kernel prints it, spaces squeezed.
squeeze() {
	tr -d '\r' | tr -s ' ' | sed 's/^ //'
}

@test "rootless: spec --rootless runs as-is; root inside is the user's own id outside" {
	local cfg=$BUNDLE/config.json
	# What makes it work unprivileged: its own user namespace mapping the user, no network namespace, no resources.
	jq -e --argjson u "$RL_UID" --argjson g "$RL_GID" '
		(.linux.namespaces | map(.type) | index("user") != null and index("network") == null)
		and .linux.uidMappings == [{containerID: 0, hostID: $u, size: 1}]
		and .linux.gidMappings == [{containerID: 0, hostID: $g, size: 1}]
		and (.linux | has("resources") | not)' "$cfg" >/dev/null ||
		fail "spec --rootless:" "$(cat "$cfg")"
	# Only the command changes: terminal, read-only root, mounts (cgroup too) as given.
	# (runc wants a terminal on stdin to proxy one; berth makes a pty of its own.)
	is_berth || set_cfg '.process.terminal = false'
	set_args /bin/sh -c 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups
		grep -q " /sys/fs/cgroup " /proc/self/mountinfo && echo cgroup-mounted'
	local id
	id=$(new_id)
	run_files rl_runtime run --bundle "$BUNDLE" "$id"
	assert_success
	assert_eq "$(squeeze <<<"$output")" "$(printf '0\n0\n0 %s 1\n0 %s 1\ndeny\ncgroup-mounted' "$RL_UID" "$RL_GID")" "inside the container"
	[ ! -e "$(rl_state_root)/$id" ] || fail "state of $id left after run"
}

@test "rootless: uidMappings from /etc/subuid through newuidmap; outside, the user's range" {
	skip_unless_berth "runc 1.1 chowns its exec fifo to the container's root, which the user cannot when that is a subordinate id"
	set_cfg '.process.terminal = false
		| .linux.uidMappings = [{containerID: 0, hostID: $s, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: $s, size: 65536}]' --argjson s "$RL_SUB"
	set_args /bin/sh -c 'id -u; id -g; exec sleep 60'
	local id pid
	id=$(new_id)
	rl_run_detached "$id"
	pid=$(rl_runtime state "$id" | jq -r .pid)
	# From the host: the container's root is the first id of the user's range.
	assert_eq "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")" "$RL_SUB $RL_SUB $RL_SUB $RL_SUB" "host uids of the container's init"
	assert_eq "$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")" "$RL_SUB $RL_SUB $RL_SUB $RL_SUB" "host gids of the container's init"
	assert_eq "$(squeeze <"/proc/$pid/uid_map")" "0 $RL_SUB 65536" "uid_map"
	assert_eq "$(squeeze <"/proc/$pid/gid_map")" "0 $RL_SUB 65536" "gid_map"
	[ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ] || fail "the host's user namespace"
	# From inside: root.
	retry 10 test -s "$(ctr_out "$id")"
	assert_eq "$(cat "$(ctr_out "$id")")" "$(printf '0\n0')" "id -u; id -g inside"
	run rl_runtime list -q
	assert_eq "$output" "$id" "list as $RL_USER"
	# exec as the user: into the user namespace first, then the rest.
	run rl_runtime exec "$id" /bin/sh -c 'id -u; cat /proc/self/uid_map'
	assert_success
	assert_eq "$(squeeze <<<"$output")" "$(printf '0\n0 %s 65536' "$RL_SUB")" "exec as $RL_USER"
	run rl_runtime kill "$id" KILL
	assert_success
	retry 10 rl_status_is "$id" stopped || fail "still $(rl_status "$id") after kill"
	run rl_runtime delete "$id"
	assert_success
	[ ! -e "$(rl_state_root)/$id" ] || fail "state left after delete"
}

@test "rootless: the user's own id and its range together: the user's files are root's inside" {
	# podman's rootless default: 0 is the user, 1.. the subordinate range.
	set_cfg '.process.terminal = false
		| .linux.uidMappings = [{containerID: 0, hostID: $u, size: 1}, {containerID: 1, hostID: $s, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: $g, size: 1}, {containerID: 1, hostID: $s, size: 65536}]' \
		--argjson u "$RL_UID" --argjson g "$RL_GID" --argjson s "$RL_SUB"
	set_args /bin/sh -c 'stat -c "%u:%g" /bin/busybox; cat /proc/self/setgroups; cat /proc/self/uid_map'
	local id expected
	expected=$(printf '0:0\nallow\n0 %s 1\n1 %s 65536' "$RL_UID" "$RL_SUB")
	id=$(new_id)
	run_files rl_runtime run --bundle "$BUNDLE" "$id"
	assert_success
	assert_eq "$(squeeze <<<"$output")" "$expected" "inside the container"
	# runc, as the same user, sees the same.
	[ -x "$REF_RUNTIME" ] || return 0
	id=$(new_id r)
	run_files as_user "$REF_RUNTIME" --root "$RL_XDG/ref" run --bundle "$BUNDLE" "$id"
	assert_success
	assert_eq "$(squeeze <<<"$output")" "$expected" "inside the container under $REF_RUNTIME"
}

@test "rootless: a range /etc/subuid does not grant fails create, with newuidmap's reason" {
	skip_unless_berth "runc 1.1 fails earlier, chowning its exec fifo to a subordinate id"
	local id other=$((RL_SUB + 65536))
	# Granted gids, uids past the user's range.
	set_cfg '.process.terminal = false
		| .linux.uidMappings = [{containerID: 0, hostID: $o, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: $s, size: 65536}]' --argjson o "$other" --argjson s "$RL_SUB"
	set_args /bin/true
	id=$(new_id)
	run_files rl_runtime run --bundle "$BUNDLE" "$id"
	assert_failure
	assert_contains "$stderr" newuidmap stderr
	assert_contains "$stderr" "linux.uidMappings" stderr
	assert_contains "$stderr" "not allowed" "stderr (newuidmap's own words)"
	assert_contains "$stderr" /etc/subuid stderr
	run rl_runtime list -q
	assert_eq "$output" "" "containers listed after the failed create"
	[ ! -e "$(rl_state_root)/$id" ] || fail "state left after the failed create"

	# The same for gids.
	set_cfg '.linux.uidMappings = [{containerID: 0, hostID: $s, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: $o, size: 65536}]' --argjson o "$other" --argjson s "$RL_SUB"
	id=$(new_id)
	run_files rl_runtime run --bundle "$BUNDLE" "$id"
	assert_failure
	assert_contains "$stderr" newgidmap stderr
	assert_contains "$stderr" "linux.gidMappings" stderr
	[ -z "$(rl_runtime list -q)" ] || fail "left a container: $(rl_runtime list -q)"

	# Without newuidmap only the user's own id can be mapped.
	set_cfg '.linux.gidMappings = .linux.uidMappings'
	id=$(new_id)
	run_files as_user PATH=/nonexistent "$RL_RUNTIME" run --bundle "$BUNDLE" "$id"
	assert_failure
	assert_contains "$stderr" "\`newuidmap\` not found in PATH" stderr
}

@test "rootless: state under \$XDG_RUNTIME_DIR, invisible to root's default root" {
	set_cfg '.process.terminal = false'
	set_args sleep 60
	local id
	id=$(new_id)
	rl_run_detached "$id"
	[ -f "$(rl_state_root)/$id/state.json" ] || fail "no $(rl_state_root)/$id/state.json"
	assert_eq "$(stat -c %U "$(rl_state_root)/$id")" "$RL_USER" "owner of the state directory"
	run rl_runtime list -q
	assert_success
	assert_eq "$output" "$id" "list as $RL_USER"
	run rl_runtime state "$id"
	assert_success
	assert_json "$output" ".id == \"$id\" and .status == \"running\""
	# root's default state root does not have it.
	run "$BERTH_RUNTIME" list -q
	assert_not_contains "$output" "$id" "root's list"
	run "$BERTH_RUNTIME" state "$id"
	assert_failure
	run rl_runtime delete --force "$id"
	assert_success
	[ ! -e "$(rl_state_root)/$id" ] || fail "state left after delete --force"

	# Without XDG_RUNTIME_DIR (and no /run/user/UID, which needs a login session): a clear error.
	skip_unless_berth "state root fallback"
	[ ! -e "/run/user/$RL_UID" ] || skip "/run/user/$RL_UID exists"
	id=$(new_id)
	run_files as_user env -u XDG_RUNTIME_DIR "$RL_RUNTIME" run --bundle "$BUNDLE" "$id"
	assert_failure
	assert_contains "$stderr" "/run/user/$RL_UID/berth-runtime" stderr
	assert_contains "$stderr" "XDG_RUNTIME_DIR is not set" stderr
}

@test "rootless: a memory limit without a delegated cgroup: the container runs, with a warning" {
	skip_unless_berth "runc's warning differs"
	set_cfg '.process.terminal = false | .linux.resources = {memory: {limit: 67108864}}'
	set_args /bin/sh -c 'echo ran'
	local id
	id=$(new_id)
	run_files rl_runtime run --bundle "$BUNDLE" "$id"
	assert_success
	assert_eq "$output" ran "container output"
	assert_contains "$stderr" "rootless" stderr
	assert_contains "$stderr" "linux.resources are not applied" stderr

	# A limit asked for later: update refuses, saying why.
	set_args sleep 60
	id=$(new_id)
	rl_run_detached "$id"
	assert_contains "$(cat "$(ctr_err "$id")")" "linux.resources are not applied" "stderr of run --detach"
	run rl_runtime update --memory 32m "$id"
	assert_failure
	assert_contains "$output" "has no cgroup" "update's error"
	assert_contains "$output" "rootless" "update's error"
}
