#!/usr/bin/env bats
# linux.namespaces: each type new or shared with the host, and joining one
# by path. User namespaces need id mappings (next issue) and are not here.

load helpers

# Namespace type in config.json -> name under /proc/PID/ns.
ns_proc_name() {
	case $1 in
	network) echo net ;;
	mount) echo mnt ;;
	*) echo "$1" ;;
	esac
}

# The config with exactly these namespace types.
set_namespaces() {
	set_cfg '.linux.namespaces = [$t[] | {type: .}]' --argjson t "$(json_array "$@")"
	# Without a private UTS namespace a runtime must not set the hostname.
	if [[ " $* " != *" uts "* ]]; then
		set_cfg 'del(.hostname) | del(.domainname)'
	fi
}

@test "default namespaces: pid, network, ipc, uts, mount new; others the host's" {
	requires_helper
	set_namespaces pid network ipc uts mount
	helper_report
	local t n
	for t in pid network ipc uts mount; do
		n=$(ns_proc_name "$t")
		[ "$(rj ".ns.$n")" != "$(host_ns "$n")" ] || fail "$t namespace is the host's: $(rj ".ns.$n")"
	done
	for n in cgroup user time; do
		assert_eq "$(rj ".ns.$n")" "$(host_ns "$n")" "$n namespace (not asked for)"
	done
	assert_eq "$(rj .pid)" 1 "pid in a new pid namespace"
	assert_eq "$(rj .ppid)" 0 "ppid in a new pid namespace"
}

@test "each namespace type shared with the host when left out" {
	requires_helper
	local t n all=(pid network ipc uts mount) keep
	for t in pid network ipc uts; do
		keep=()
		for n in "${all[@]}"; do [ "$n" = "$t" ] || keep+=("$n"); done
		set_namespaces "${keep[@]}"
		helper_report
		n=$(ns_proc_name "$t")
		assert_eq "$(rj ".ns.$n")" "$(host_ns "$n")" "$t namespace left out of the config"
		for n in "${keep[@]}"; do
			n=$(ns_proc_name "$n")
			[ "$(rj ".ns.$n")" != "$(host_ns "$n")" ] || fail "$n namespace is the host's although asked for"
		done
	done
	# With the host's pid namespace the process has a host pid.
	set_namespaces network ipc uts mount
	helper_report
	[ "$(rj .pid)" -gt 1 ] || fail "pid $(rj .pid) in the host pid namespace"
}

@test "cgroup namespace" {
	requires_helper
	set_namespaces pid network ipc uts mount cgroup
	helper_report
	[ "$(rj .ns.cgroup)" != "$(host_ns cgroup)" ] || fail "cgroup namespace is the host's"
}

@test "time namespace" {
	runtime features | jq -e '.linux.namespaces | index("time") != null' >/dev/null ||
		skip_unless_berth "runtime does not list the time namespace (runc 1.1)"
	requires_helper
	set_namespaces pid network ipc uts mount time
	helper_report
	[ "$(rj .ns.time)" != "$(host_ns time)" ] || fail "time namespace is the host's"
}

@test "domainname from the config" {
	skip_unless_berth "runc 1.1 ignores domainname (runc 1.2 sets it)"
	requires_helper
	set_cfg '.domainname = "example.test"'
	helper_report
	assert_eq "$(rj .domainname)" example.test domainname
	[ "$(domainname)" != example.test ] || fail "the host's domainname changed"
}

@test "a new uts namespace: hostname from the config" {
	requires_helper
	set_cfg '.hostname = "berth-test-host"'
	helper_report
	assert_eq "$(rj .hostname)" berth-test-host hostname
	[ "$(hostname)" != berth-test-host ] || fail "the host's hostname changed"

	# And the container may change its own, without touching the host's.
	set_cfg '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	run_ctr /bin/sh -c '/bin/berth-testhelper sethostname changed && hostname'
	assert_success
	assert_eq "$output" "$(printf 'ok\nchanged')" "sethostname inside"
	[ "$(hostname)" != changed ] || fail "the container changed the host's hostname"
}

@test "join a network namespace by path" {
	requires_helper
	local name=bt-$RUN_TAG-$BATS_SUITE_TEST_NUMBER
	ip netns add "$name" || skip "ip netns add failed"
	defer "ip netns del $name"
	# A mark the container can see: a per-namespace sysctl.
	ip netns exec "$name" sh -c 'echo 77 > /proc/sys/net/ipv4/ip_default_ttl'
	set_cfg '(.linux.namespaces[] | select(.type == "network")) .path = $p' --arg p "/var/run/netns/$name"
	helper_report
	assert_eq "$(rj .ns.net)" "net:[$(stat -L -c %i "/var/run/netns/$name")]" "network namespace"

	run_ctr /bin/berth-testhelper cat /proc/sys/net/ipv4/ip_default_ttl
	assert_success
	assert_eq "$output" 77 "ip_default_ttl in the joined namespace"
}

@test "join another container's namespaces by /proc path" {
	requires_helper
	local first
	first=$(new_id)
	start_pause_ctr "$first"
	local pid
	pid=$(ctr_pid "$first")
	make_bundle "$BATS_TEST_TMPDIR/second"
	CFG_FILE=$BATS_TEST_TMPDIR/second/config.json set_cfg '
		(.linux.namespaces[] | select(.type == "network")) .path = "/proc/\($p)/ns/net"
		| (.linux.namespaces[] | select(.type == "ipc")) .path = "/proc/\($p)/ns/ipc"
		| .process.args = ["/bin/berth-testhelper", "report"]' --arg p "$pid"
	local id
	id=$(new_id)
	run --separate-stderr runtime run --bundle "$BATS_TEST_TMPDIR/second" "$id"
	assert_success
	assert_eq "$(jq -r .ns.net <<<"$output")" "$(readlink "/proc/$pid/ns/net")" "joined network namespace"
	assert_eq "$(jq -r .ns.ipc <<<"$output")" "$(readlink "/proc/$pid/ns/ipc")" "joined ipc namespace"
	[ "$(jq -r .ns.uts <<<"$output")" != "$(readlink "/proc/$pid/ns/uts")" ] || fail "uts namespace was shared, not asked for"
}

@test "joining a namespace path that does not exist fails" {
	set_cfg '(.linux.namespaces[] | select(.type == "network")) .path = "/var/run/netns/berth-no-such-ns"'
	local id
	id=$(new_id)
	run_files runtime create --bundle "$BUNDLE" "$id"
	assert_failure
	run runtime state "$id"
	assert_failure
}

@test "user namespace: the maps are written, root inside is an unprivileged id outside" {
	requires_helper
	# The mapped root (an unprivileged id on the host) must be able to reach the rootfs.
	local d=$BUNDLE
	while [ "$d" != / ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
	set_cfg '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
	set_helper_args sleep 30
	local id
	id=$(new_id)
	run_detached "$id"
	wait_status "$id" running
	local pid
	pid=$(ctr_pid "$id")
	# From the host: the process runs as the mapped id, in its own user namespace.
	assert_eq "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" 200000 "host uid of the container's root"
	[ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ] || fail "same user namespace as the host"
	# From inside: root, with the maps as configured, and devices usable (bound from the host).
	run runtime exec "$id" /bin/berth-testhelper report
	assert_success
	REPORT=$output
	assert_eq "$(rj .uid)" 0 "uid inside"
	assert_eq "$(rj .uid_map | tr -s ' ' | sed 's/^ //')" "0 200000 65536" "uid_map"
	assert_eq "$(rj .gid_map | tr -s ' ' | sed 's/^ //')" "0 200000 65536" "gid_map"
	run runtime exec "$id" /bin/berth-testhelper write /dev/null x
	assert_eq "$output" ok "write to /dev/null"
	# Host files owned by the host's root are nobody's inside: root there cannot write them.
	run runtime exec "$id" /bin/berth-testhelper write /etc/passwd x
	assert_eq "$output" EACCES "write to a file of the host's root"
}

@test "user namespace: a mapping that the host refuses fails create with the field named" {
	set_cfg '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 10}, {"containerID": 5, "hostID": 300000, "size": 10}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 10}]'
	run_ctr /bin/true
	assert_failure
	assert_contains "$stderr" "linux.uidMappings" stderr
	[ -z "$(runtime list -q)" ] || fail "left a container: $(runtime list -q)"
}
