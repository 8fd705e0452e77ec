#!/usr/bin/env bats
# The process and the rest of linux.*: args, env, cwd, user, umask,
# noNewPrivileges, capabilities, rlimits, oomScoreAdj, sysctl, personality,
# LSM labels, and which fds reach the container.

load helpers

@test "args resolved through the config's PATH" {
	requires_helper
	set_cfg '.process.env = ["PATH=/usr/bin:/bin"]'
	run_ctr berth-testhelper echo via path
	assert_success
	assert_eq "$output" "via path" output
}

@test "a missing executable: not-found message, no container left" {
	requires_helper
	set_cfg '.process.env = ["PATH=/usr/bin:/bin"]'
	run_ctr nosuchbinary
	assert_failure
	assert_contains "$stderr" 'executable file not found in $PATH' stderr
	run_ctr /no/such/binary
	assert_failure
	assert_contains "$stderr" "no such file or directory" stderr
	# Found in the root, but not in this PATH.
	set_cfg '.process.env = ["PATH=/nowhere"]'
	run_ctr berth-testhelper echo hi
	assert_failure
	assert_contains "$stderr" 'executable file not found in $PATH' stderr
	[ -z "$(runtime list -q)" ] || fail "failed runs left containers: $(runtime list -q)"
}

@test "an executable without permission to run: permission denied" {
	run_ctr /etc/passwd
	assert_failure
	assert_contains "$stderr" "permission denied" stderr
}

@test "env: exactly the config's variables, nothing from the caller" {
	requires_helper
	set_cfg '.process.env = ["PATH=/bin", "FOO=bar", "EMPTY=", "WITH_EQ=a=b", "HOME=/home"]'
	export BERTH_LEAK_CHECK=leaked
	helper_report
	assert_eq "$(rj '.env | sort | join(" ")')" "EMPTY= FOO=bar HOME=/home PATH=/bin WITH_EQ=a=b" env
}

@test "cwd" {
	requires_helper
	set_cfg '.process.cwd = "/tmp"'
	helper_report
	assert_eq "$(rj .cwd)" /tmp cwd
	set_cfg '.process.cwd = "/etc"'
	helper_report
	assert_eq "$(rj .cwd)" /etc cwd
}

@test "cwd must be absolute" {
	set_cfg '.process.cwd = "tmp"'
	run_ctr /bin/true
	assert_failure
}

@test "cwd outside the root is refused or confined to it" {
	requires_helper
	local hostdir=$BATS_TEST_TMPDIR/hostdir
	mkdir -p "$hostdir"
	touch "$hostdir/HOSTMARKER"
	ln -s "$hostdir" "$BUNDLE/rootfs/escape-abs"
	ln -s "../../../../../../../../..$hostdir" "$BUNDLE/rootfs/escape-rel"
	local cwd
	for cwd in /escape-abs /escape-rel "/../../../../../../..$hostdir"; do
		set_cfg '.process.cwd = $c' --arg c "$cwd"
		run_ctr /bin/berth-testhelper ls .
		if [ "$status" -eq 0 ]; then
			assert_not_contains "$output" HOSTMARKER "ls of cwd '$cwd'"
		fi
	done
	assert_eq "$(ls -A "$hostdir")" HOSTMARKER "host directory contents"
}

@test "cwd through /proc/self/fd does not reach a leaked fd (CVE-2024-21626)" {
	requires_helper
	local n
	for n in 3 4 5 6 7 8 9 10; do
		set_cfg '.process.cwd = $c' --arg c "/proc/self/fd/$n"
		run_ctr /bin/berth-testhelper report
		if [ "$status" -eq 0 ]; then
			REPORT=$output
			[[ "$(rj .cwd)" == /* ]] || fail "cwd /proc/self/fd/$n is outside the root: $(rj .cwd)"
			[[ "$(rj .cwd)" != /sys/fs/cgroup* ]] || fail "cwd /proc/self/fd/$n is a cgroup directory"
		fi
	done
}

@test "user: uid, gid, additionalGids, umask" {
	requires_helper
	set_cfg '.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [10, 20], "umask": 63}'
	helper_report
	assert_eq "$(rj '[.uid, .euid, .gid, .egid] | join(",")')" 1000,1000,1001,1001 "uid,euid,gid,egid"
	assert_eq "$(rj '.groups | sort | join(",")')" 10,20 groups
	assert_eq "$(rj .umask)" 0077 umask
}

@test "user: root with no additionalGids has no groups, umask 0022 by default" {
	requires_helper
	set_cfg '.process.user = {"uid": 0, "gid": 0}'
	helper_report
	assert_eq "$(rj '[.uid, .gid] | join(",")')" 0,0 "uid,gid"
	assert_eq "$(rj '.groups | join(",")')" "" groups
	assert_eq "$(rj .umask)" 0022 umask
}

@test "noNewPrivileges true and false" {
	requires_helper
	set_cfg '.process.noNewPrivileges = true'
	helper_report
	assert_eq "$(rj .no_new_privs)" 1 "no_new_privs"
	set_cfg '.process.noNewPrivileges = false'
	helper_report
	assert_eq "$(rj .no_new_privs)" 0 "no_new_privs"
}

@test "capabilities: the default spec's set, inheritable and ambient empty" {
	requires_helper
	helper_report
	local want
	want=$(jq -c '.process.capabilities.bounding | sort' "$BUNDLE/config.json")
	assert_eq "$(rj '.caps.bounding | sort' | jq -c .)" "$want" bounding
	assert_eq "$(rj '.caps.effective | sort' | jq -c .)" "$want" effective
	assert_eq "$(rj '.caps.permitted | sort' | jq -c .)" "$want" permitted
	assert_eq "$(rj '.caps.inheritable' | jq -c .)" "[]" inheritable
	assert_eq "$(rj '.caps.ambient' | jq -c .)" "[]" ambient
}

@test "capabilities: all five sets as configured (root, noNewPrivileges)" {
	requires_helper
	set_cfg '.process.noNewPrivileges = true | .process.user = {"uid": 0, "gid": 0}
		| .process.capabilities = {
			"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_SETUID"],
			"effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
			"permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
			"inheritable": ["CAP_KILL", "CAP_NET_RAW"],
			"ambient": ["CAP_KILL", "CAP_NET_RAW"]}'
	helper_report
	local set
	for set in bounding effective permitted inheritable ambient; do
		assert_eq "$(rj ".caps.$set | sort | join(\",\")")" "$(jq -r ".process.capabilities.$set | sort | join(\",\")" "$BUNDLE/config.json")" "$set"
	done
}

@test "capabilities: a non-root user keeps only the ambient set across exec" {
	requires_helper
	set_cfg '.process.user = {"uid": 1000, "gid": 1000}
		| .process.capabilities = {
			"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_SETUID"],
			"effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
			"permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
			"inheritable": ["CAP_KILL", "CAP_NET_RAW"],
			"ambient": ["CAP_KILL", "CAP_NET_RAW"]}'
	helper_report
	assert_eq "$(rj '.caps.bounding | sort | join(",")')" CAP_CHOWN,CAP_KILL,CAP_NET_RAW,CAP_SETUID,CAP_SYS_CHROOT bounding
	assert_eq "$(rj '.caps.inheritable | sort | join(",")')" CAP_KILL,CAP_NET_RAW inheritable
	assert_eq "$(rj '.caps.ambient | sort | join(",")')" CAP_KILL,CAP_NET_RAW ambient
	# execve as non-root: permitted and effective become the ambient set.
	assert_eq "$(rj '.caps.permitted | sort | join(",")')" CAP_KILL,CAP_NET_RAW permitted
	assert_eq "$(rj '.caps.effective | sort | join(",")')" CAP_KILL,CAP_NET_RAW effective
}

@test "capabilities: a capability not granted is not usable" {
	requires_helper
	run_ctr /bin/berth-testhelper mount tmpfs tmpfs /tmp
	assert_success
	assert_eq "$output" EPERM "mount without CAP_SYS_ADMIN"
	set_cfg '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	run_ctr /bin/berth-testhelper mount tmpfs tmpfs /tmp
	assert_eq "$output" ok "mount with CAP_SYS_ADMIN"
}

@test "an unknown capability name is refused" {
	skip_unless_berth "runc 1.1 warns about unknown capability names and ignores them"
	set_cfg '.process.capabilities.bounding += ["CAP_NO_SUCH_THING"]'
	run_ctr /bin/true
	assert_failure
	assert_contains "$(all_output)" CAP_NO_SUCH_THING "error"
}

@test "rlimits" {
	requires_helper
	set_cfg '.process.rlimits = [
		{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
		{"type": "RLIMIT_CORE", "soft": 1000, "hard": 2000},
		{"type": "RLIMIT_NPROC", "soft": 500, "hard": 600},
		{"type": "RLIMIT_STACK", "soft": 4194304, "hard": 8388608}]'
	helper_report
	assert_eq "$(rj '.rlimits.RLIMIT_NOFILE | "\(.soft)/\(.hard)"')" 123/456 RLIMIT_NOFILE
	assert_eq "$(rj '.rlimits.RLIMIT_CORE | "\(.soft)/\(.hard)"')" 1000/2000 RLIMIT_CORE
	assert_eq "$(rj '.rlimits.RLIMIT_NPROC | "\(.soft)/\(.hard)"')" 500/600 RLIMIT_NPROC
	assert_eq "$(rj '.rlimits.RLIMIT_STACK | "\(.soft)/\(.hard)"')" 4194304/8388608 RLIMIT_STACK
}

@test "rlimits: an unknown type is refused" {
	set_cfg '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
	run_ctr /bin/true
	assert_failure
}

@test "oomScoreAdj" {
	requires_helper
	set_cfg '.process.oomScoreAdj = 500'
	helper_report
	assert_eq "$(rj .oom_score_adj)" 500 oom_score_adj
	assert_eq "$(cat /proc/self/oom_score_adj)" 0 "the caller's oom_score_adj"
}

@test "sysctl: namespaced keys set inside, host untouched" {
	requires_helper
	local host_shm host_fwd
	host_shm=$(cat /proc/sys/kernel/shm_rmid_forced)
	host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	local want_shm=$((1 - host_shm)) want_fwd=$((1 - host_fwd))
	set_cfg '.linux.sysctl = {"kernel.shm_rmid_forced": $a, "net.ipv4.ip_forward": $b}' --arg a "$want_shm" --arg b "$want_fwd"
	run_ctr /bin/sh -c 'cat /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ip_forward'
	assert_success
	assert_eq "$output" "$(printf '%s\n%s' "$want_shm" "$want_fwd")" "sysctls inside"
	assert_eq "$(cat /proc/sys/kernel/shm_rmid_forced)" "$host_shm" "host kernel.shm_rmid_forced"
	assert_eq "$(cat /proc/sys/net/ipv4/ip_forward)" "$host_fwd" "host net.ipv4.ip_forward"
}

@test "sysctl: a key that is not namespaced is refused" {
	local before
	before=$(cat /proc/sys/vm/overcommit_ratio)
	set_cfg '.linux.sysctl = {"vm.overcommit_ratio": $v}' --arg v "$((before + 1))"
	run_ctr /bin/true
	assert_failure
	assert_eq "$(cat /proc/sys/vm/overcommit_ratio)" "$before" "host vm.overcommit_ratio"
}

@test "personality LINUX32: uname -m says i686" {
	skip_unless_berth "runc 1.1 ignores linux.personality (runc 1.2 applies it)"
	requires_helper
	set_cfg '.linux.personality = {"domain": "LINUX32"}'
	run_ctr /bin/uname -m
	assert_success
	assert_eq "$output" i686 "uname -m"
	helper_report
	assert_eq "$(rj .personality)" 8 "personality (PER_LINUX32)"
}

@test "fds: only stdio reach the container, whatever the caller has open" {
	requires_helper
	set_helper_args report
	local id
	id=$(new_id)
	run --separate-stderr runtime_keep_fds run --bundle "$BUNDLE" "$id" 3<"$BUNDLE/config.json" 4<"$BUNDLE/config.json" 9>/dev/null 42</dev/null
	assert_success
	assert_eq "$(jq -r '[.fds[].fd] | join(",")' <<<"$output")" 0,1,2 "fds in the container"
}

@test "--preserve-fds: LISTEN_FDS style fd 3 reaches the container" {
	requires_helper
	set_cfg '.process.env += ["LISTEN_FDS=1"]'
	set_args /bin/sh -c 'echo "to fd 3, LISTEN_FDS=$LISTEN_FDS" >&3; /bin/berth-testhelper report'
	local id
	id=$(new_id)
	run --separate-stderr runtime_keep_fds run --preserve-fds 1 --bundle "$BUNDLE" "$id" 3>"$BATS_TEST_TMPDIR/fd3" 4</dev/null
	assert_success
	assert_eq "$(jq -r '[.fds[].fd] | join(",")' <<<"$output")" 0,1,2,3 "fds with --preserve-fds 1"
	assert_eq "$(cat "$BATS_TEST_TMPDIR/fd3")" "to fd 3, LISTEN_FDS=1" "written through fd 3"
}

@test "--preserve-fds on create: the fd reaches the process at start" {
	requires_helper
	set_args /bin/sh -c 'echo through-create >&3'
	local id
	id=$(new_id)
	runtime_keep_fds create --preserve-fds 1 --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>"$(ctr_err "$id")" 3>"$BATS_TEST_TMPDIR/fd3" ||
		fail "create failed: $(cat "$(ctr_err "$id")")"
	runtime start "$id"
	wait_status "$id" stopped
	assert_eq "$(cat "$BATS_TEST_TMPDIR/fd3")" through-create "written through fd 3"
}

@test "stdio: the container's stdout and stderr are the caller's" {
	set_args /bin/sh -c 'echo out; echo err >&2; exit 5'
	local id
	id=$(new_id)
	run --separate-stderr runtime run --bundle "$BUNDLE" "$id"
	assert_status 5
	assert_eq "$output" out stdout
	assert_contains "$stderr" err stderr
}

@test "apparmorProfile on a host without AppArmor: a clear error" {
	if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
		skip "AppArmor is enabled on this host"
	fi
	set_cfg '.process.apparmorProfile = "berth-test-profile"'
	run_ctr /bin/true
	assert_failure
	[[ "$(all_output)" == *[Aa]pp[Aa]rmor* ]] || fail "error does not mention AppArmor: $(all_output)"
}

@test "selinuxLabel on a host without SELinux: a clear error" {
	[ ! -d /sys/fs/selinux ] || skip "SELinux is present on this host"
	set_cfg '.process.selinuxLabel = "system_u:system_r:container_t:s0"'
	run_ctr /bin/true
	assert_failure
	[[ "$(all_output)" == *[Ss][Ee][Ll]inux* ]] || fail "error does not mention SELinux: $(all_output)"
}

@test "signals the caller ignored or blocked do not reach the container" {
	skip_unless_berth "runc keeps what its caller ignored on signal 32"
	requires_helper
	set_helper_args report
	local id
	id=$(new_id)
	# bash passes ignored dispositions on to the runtime, and they survive execve.
	run_files bash -c 'trap "" USR1 HUP PIPE; exec "$@"' _ "$BERTH_RUNTIME" --root "$STATE_ROOT" run --bundle "$BUNDLE" "$id"
	assert_success
	assert_eq "$(jq -r .sigignore <<<"$output")" 0000000000000000 "ignored signals in the container"
	assert_eq "$(jq -r .sigmask <<<"$output")" 0000000000000000 "blocked signals in the container"
	set_helper_args sleep 30
	id=$(new_id)
	run_detached "$id"
	wait_status "$id" running
	run bash -c 'trap "" USR2; exec "$@"' _ "$BERTH_RUNTIME" --root "$STATE_ROOT" exec "$id" /bin/berth-testhelper report
	assert_success
	assert_eq "$(jq -r .sigignore <<<"$output")" 0000000000000000 "ignored signals in exec"
}
