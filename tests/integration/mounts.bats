#!/usr/bin/env bats
# root, mounts, propagation, /dev, linux.devices, maskedPaths, readonlyPaths,
# all as the container sees them in /proc/self/mountinfo and by trying.

load helpers

# mnt MOUNT_POINT [FIELD]: a field (default: whole object) of the last
# mount at MOUNT_POINT in $REPORT.
mnt() {
	jq -c --arg m "$1" "[.mounts[] | select(.mount_point == \$m)] | last | ${2:-.}" <<<"$REPORT"
}

# has_opt CSV OPT
has_opt() {
	[[ ",$1," == *",$2,"* ]]
}

assert_mount_opt() {
	local opts
	opts=$(mnt "$1" .options | jq -r .)
	has_opt "$opts" "$2" || fail "mount $1 lacks option '$2': $opts"
}

assert_no_mount_opt() {
	local opts
	opts=$(mnt "$1" .options | jq -r .)
	! has_opt "$opts" "$2" || fail "mount $1 has option '$2': $opts"
}

add_mount() {
	set_cfg '.mounts += [$m]' --argjson m "$1"
}

@test "default mounts: proc, /dev tmpfs, devpts, shm, mqueue, sysfs, cgroup" {
	requires_helper
	helper_report
	assert_eq "$(mnt /proc .fstype)" '"proc"' "/proc fstype"
	assert_eq "$(mnt /dev .fstype)" '"tmpfs"' "/dev fstype"
	assert_mount_opt /dev nosuid
	assert_eq "$(mnt /dev/pts .fstype)" '"devpts"' "/dev/pts fstype"
	assert_mount_opt /dev/pts nosuid
	assert_mount_opt /dev/pts noexec
	local so
	so=$(mnt /dev/pts .super_options | jq -r .)
	has_opt "$so" ptmxmode=666 || fail "devpts without ptmxmode=666: $so"
	has_opt "$so" mode=620 || fail "devpts without mode=620: $so"
	has_opt "$so" gid=5 || fail "devpts without gid=5: $so"
	assert_eq "$(mnt /dev/shm .fstype)" '"tmpfs"' "/dev/shm fstype"
	assert_mount_opt /dev/shm nosuid
	assert_mount_opt /dev/shm nodev
	assert_mount_opt /dev/shm noexec
	assert_contains "$(mnt /dev/shm .super_options)" size=65536k "/dev/shm super options"
	assert_eq "$(mnt /dev/mqueue .fstype)" '"mqueue"' "/dev/mqueue fstype"
	assert_eq "$(mnt /sys .fstype)" '"sysfs"' "/sys fstype"
	assert_mount_opt /sys ro
	assert_mount_opt /sys nosuid

	# cgroup: something is mounted at /sys/fs/cgroup, and every cgroup
	# filesystem there is read-only as the spec asks.
	[ "$(mnt /sys/fs/cgroup)" != null ] || fail "nothing mounted at /sys/fs/cgroup"
	local cg
	cg=$(jq -c '[.mounts[] | select((.mount_point | startswith("/sys/fs/cgroup")) and (.fstype == "cgroup" or .fstype == "cgroup2"))]' <<<"$REPORT")
	assert_json "$cg" 'length >= 1'
	assert_json "$cg" 'all(.[]; .options | split(",") | index("ro") != null)'
}

@test "proc is the container's own, devpts a new instance" {
	requires_helper
	run_ctr /bin/sh -c '/bin/berth-testhelper cat /proc/1/cmdline | tr "\0" " "; echo; /bin/berth-testhelper ls /dev/pts; /bin/berth-testhelper stat /dev/shm'
	assert_success
	assert_eq "$(sed -n 1p <<<"$output")" "/bin/sh -c $(jq -r '.process.args[2]' "$BUNDLE/config.json") " "/proc/1/cmdline"
	assert_eq "$(sed -n 2p <<<"$output")" ptmx "/dev/pts holds only ptmx (no host ptys)"
	assert_json "$(sed -n 3p <<<"$output")" '.type == "dir" and .mode == "1777"'
}

@test "bind mount of a directory and of a file" {
	requires_helper
	local src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src"
	echo from-host >"$src/file"
	echo single >"$BATS_TEST_TMPDIR/single"
	add_mount "{\"destination\": \"/mnt/dir\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"bind\"]}"
	add_mount "{\"destination\": \"/etc/single\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/single\", \"options\": [\"bind\"]}"
	run_ctr /bin/sh -c 'cat /mnt/dir/file /etc/single; echo written > /mnt/dir/new'
	assert_success
	assert_eq "$output" "$(printf 'from-host\nsingle')" "bind-mounted content"
	assert_eq "$(cat "$src/new")" written "write through a rw bind mount"
}

@test "bind does not carry submounts, rbind does" {
	requires_helper
	local src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src/sub"
	mount -t tmpfs -o size=1m berth-test "$src/sub"
	defer "umount -l '$src/sub'"
	echo in-submount >"$src/sub/f"
	add_mount "{\"destination\": \"/b\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"bind\"]}"
	add_mount "{\"destination\": \"/rb\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"rbind\"]}"
	run_ctr /bin/sh -c '/bin/berth-testhelper ls /b/sub; echo ---; cat /rb/sub/f'
	assert_success
	assert_eq "$output" "$(printf -- '---\nin-submount')" "bind vs rbind"
}

@test "ro bind mount: writes fail with EROFS, the host's side stays writable" {
	requires_helper
	local src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src"
	add_mount "{\"destination\": \"/ro\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"bind\", \"ro\"]}"
	set_helper_args report
	helper_report
	assert_mount_opt /ro ro
	run_ctr /bin/berth-testhelper write /ro/x y
	assert_success
	assert_eq "$output" EROFS "write to a ro bind mount"
	echo host >"$src/x" || fail "the host's directory became read-only"
}

@test "rro: submounts read-only too" {
	requires_helper
	local src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src/sub"
	mount -t tmpfs -o size=1m berth-test "$src/sub"
	defer "umount -l '$src/sub'"
	add_mount "{\"destination\": \"/rro\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"rbind\", \"rro\"]}"
	add_mount "{\"destination\": \"/ro\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"rbind\", \"ro\"]}"
	run_ctr /bin/sh -c 'T=/bin/berth-testhelper; $T write /rro/x y; $T write /rro/sub/x y; $T write /ro/x y; $T write /ro/sub/x y'
	assert_success
	assert_eq "$output" "$(printf 'EROFS\nEROFS\nEROFS\nok')" "writes: rro top, rro sub, ro top, ro sub"
	[ ! -e "$src/x" ] || fail "a write went through"
}

@test "nosuid, nodev, noexec show in mountinfo and hold" {
	requires_helper
	local src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src"
	cp "$BERTH_TESTHELPER" "$src/th"
	add_mount "{\"destination\": \"/restricted\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"bind\", \"nosuid\", \"nodev\", \"noexec\"]}"
	add_mount "{\"destination\": \"/plain\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"bind\"]}"
	helper_report
	local o
	for o in nosuid nodev noexec; do
		assert_mount_opt /restricted "$o"
		assert_no_mount_opt /plain "$o"
	done
	run_ctr /bin/berth-testhelper fork-exec /restricted/th exit 0
	assert_success
	assert_eq "$output" "exit 126" "exec from a noexec mount"
	run_ctr /bin/berth-testhelper fork-exec /plain/th exit 0
	assert_eq "$output" "exit 0" "exec from a plain bind mount"
}

@test "tmpfs with size and mode" {
	requires_helper
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=2m", "mode=0710", "nosuid"]}'
	helper_report
	assert_eq "$(mnt /scratch .fstype)" '"tmpfs"' fstype
	local so
	so=$(mnt /scratch .super_options | jq -r .)
	has_opt "$so" size=2048k || fail "tmpfs super options lack size=2048k: $so"
	has_opt "$so" mode=710 || fail "tmpfs super options lack mode=710: $so"
	assert_mount_opt /scratch nosuid
	run_ctr /bin/berth-testhelper stat /scratch
	assert_json "$output" '.type == "dir"'
	if is_berth; then
		# runc 1.1 chmods a tmpfs to the mode of the directory it created
		# for it (0755), so mode= shows only in the super options.
		assert_json "$output" '.mode == "0710"'
	fi
}

@test "proc, sysfs, mqueue mounts at extra places" {
	requires_helper
	add_mount '{"destination": "/extra/proc", "type": "proc", "source": "proc"}'
	add_mount '{"destination": "/extra/sys", "type": "sysfs", "source": "sysfs", "options": ["ro", "nosuid", "nodev", "noexec"]}'
	add_mount '{"destination": "/extra/mq", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "nodev", "noexec"]}'
	helper_report
	assert_eq "$(mnt /extra/proc .fstype)" '"proc"' "/extra/proc"
	assert_eq "$(mnt /extra/sys .fstype)" '"sysfs"' "/extra/sys"
	assert_mount_opt /extra/sys ro
	assert_eq "$(mnt /extra/mq .fstype)" '"mqueue"' "/extra/mq"
}

# A shared mount on the host, so propagation has something to show.
make_shared_src() {
	SHARED=$BATS_TEST_TMPDIR/shared
	mkdir -p "$SHARED"
	mount --bind "$SHARED" "$SHARED"
	defer "umount -R -l '$SHARED'"
	mount --make-shared "$SHARED"
}

@test "propagation: rprivate, rslave, rshared in mountinfo and in effect" {
	requires_helper
	make_shared_src
	local p
	for p in rprivate rslave rshared private slave shared; do
		add_mount "{\"destination\": \"/p/$p\", \"type\": \"bind\", \"source\": \"$SHARED\", \"options\": [\"rbind\", \"$p\"]}"
	done
	local id
	id=$(new_id)
	start_pause_ctr "$id"
	run --separate-stderr runtime exec "$id" /bin/berth-testhelper report
	assert_success
	REPORT=$output
	local opt
	for p in rprivate private; do
		opt=$(mnt "/p/$p" .optional | jq -r .)
		[[ "$opt" != *shared:* && "$opt" != *master:* ]] || fail "$p mount has propagation '$opt'"
	done
	for p in rslave slave; do
		opt=$(mnt "/p/$p" .optional | jq -r .)
		[[ "$opt" == *master:* && "$opt" != *shared:* ]] || fail "$p mount has propagation '$opt'"
	done
	for p in rshared shared; do
		opt=$(mnt "/p/$p" .optional | jq -r .)
		[[ "$opt" == *shared:* ]] || fail "$p mount has propagation '$opt'"
	done

	# A mount the host makes afterwards reaches slave and shared copies only.
	mkdir "$SHARED/late"
	mount -t tmpfs -o size=1m berth-late "$SHARED/late"
	run --separate-stderr runtime exec "$id" /bin/sh -c 'grep -o " /p/[a-z]*/late " /proc/self/mountinfo | sort'
	assert_success
	assert_eq "$(tr -d ' ' <<<"$output")" "$(printf '/p/rshared/late\n/p/rslave/late\n/p/shared/late\n/p/slave/late')" "mounts propagated from the host"
}

@test "rootfsPropagation: valid values run, a bogus one is refused" {
	requires_helper
	local p
	for p in private rprivate slave rslave shared rshared; do
		set_cfg '.linux.rootfsPropagation = $p' --arg p "$p"
		run_ctr /bin/berth-testhelper echo ok
		assert_success
		assert_eq "$output" ok "run with rootfsPropagation $p"
	done
	set_cfg '.linux.rootfsPropagation = "bogus"'
	run_ctr /bin/berth-testhelper echo ok
	assert_failure
}

@test "root.readonly: / is read-only, mounts on it are not" {
	requires_helper
	set_cfg '.root.readonly = true'
	add_mount '{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}'
	helper_report
	assert_mount_opt / ro
	run_ctr /bin/sh -c '/bin/berth-testhelper write /x y; /bin/berth-testhelper write /tmp/x y'
	assert_success
	assert_eq "$output" "$(printf 'EROFS\nok')" "write to / and to a tmpfs on it"
	[ ! -e "$BUNDLE/rootfs/x" ] || fail "write reached the rootfs"

	set_cfg '.root.readonly = false'
	helper_report
	assert_no_mount_opt / ro
}

@test "mount destinations through symlinks stay inside the root" {
	requires_helper
	local hostdir=$BATS_TEST_TMPDIR/hostdir
	mkdir -p "$hostdir"
	touch "$hostdir/HOSTMARKER"
	ln -s "$hostdir" "$BUNDLE/rootfs/evil-abs"
	ln -s "../../../../../../../../../..$hostdir" "$BUNDLE/rootfs/evil-rel"
	add_mount '{"destination": "/evil-abs", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
	add_mount '{"destination": "/evil-rel/sub", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
	run_ctr /bin/berth-testhelper report
	if [ "$status" -eq 0 ]; then
		REPORT=$output
		# The tmpfs mounts are visible inside, wherever in the root they landed.
		assert_json "$REPORT" '[.mounts[] | select(.fstype == "tmpfs" and (.super_options | contains("size=1024k")))] | length == 2'
	fi
	# Whatever happened, nothing was mounted on or created in the host's directory.
	assert_eq "$(ls -A "$hostdir")" HOSTMARKER "host directory contents"
	! grep -q " $hostdir" /proc/self/mountinfo || fail "a mount landed on the host at $hostdir"
}

@test "the default /dev: devices, links, nothing from the host" {
	requires_helper
	local d st
	for d in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
		IFS=: read -r name maj min <<<"$d"
		run_ctr /bin/berth-testhelper stat "/dev/$name"
		assert_success
		assert_json "$output" ".type == \"char\" and .major == $maj and .minor == $min and .mode == \"0666\" and .uid == 0"
	done
	run_ctr /bin/sh -c 'for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done'
	assert_success
	assert_eq "$output" "$(printf '/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\npts/ptmx')" "/dev links"
	run_ctr /bin/berth-testhelper ls /dev
	assert_success
	local extra
	extra=$(grep -vxE 'null|zero|full|random|urandom|tty|ptmx|pts|shm|mqueue|fd|stdin|stdout|stderr|console|core' <<<"$output" || true)
	[ -z "$extra" ] || fail "unexpected entries in /dev:" "$extra"
	# A device node there works.
	run_ctr /bin/sh -c 'head -c 8 /dev/urandom | wc -c; echo x > /dev/null && echo null-ok'
	assert_eq "$output" "$(printf '8\nnull-ok')" "reading urandom, writing null"
}

@test "linux.devices: block devices and fifos" {
	requires_helper
	set_cfg '.linux.devices = [
		{"path": "/dev/berthblk", "type": "b", "major": 7, "minor": 0, "fileMode": 432},
		{"path": "/dev/berthfifo", "type": "p", "fileMode": 384}]'
	run_ctr /bin/sh -c '/bin/berth-testhelper stat /dev/berthblk; /bin/berth-testhelper stat /dev/berthfifo'
	assert_success
	assert_json "$(sed -n 1p <<<"$output")" '.type == "block" and .major == 7 and .minor == 0 and .mode == "0660"'
	assert_json "$(sed -n 2p <<<"$output")" '.type == "fifo" and .mode == "0600"'
}

@test "linux.devices: a char device with mode, uid and gid" {
	requires_helper
	set_cfg '.linux.devices = [{"path": "/dev/berthnull", "type": "c", "major": 1, "minor": 3, "fileMode": 416, "uid": 1, "gid": 100}]
		| .process.user = {"uid": 1, "gid": 100}'
	run_ctr /bin/sh -c '/bin/berth-testhelper stat /dev/berthnull; /bin/berth-testhelper open /dev/berthnull w'
	assert_success
	assert_json "$(sed -n 1p <<<"$output")" '.type == "char" and .major == 1 and .minor == 3 and .mode == "0640" and .uid == 1 and .gid == 100'
	assert_eq "$(sed -n 2p <<<"$output")" ok "open for writing as its owner"
}

@test "maskedPaths: files read empty as /dev/null, directories are empty and read-only" {
	requires_helper
	mkdir -p "$BUNDLE/rootfs/secretdir"
	echo secret >"$BUNDLE/rootfs/secretdir/s"
	echo secret >"$BUNDLE/rootfs/etc/secret"
	set_cfg '.linux.maskedPaths += ["/etc/secret", "/secretdir", "/does/not/exist"]'
	run_ctr /bin/sh -c 'T=/bin/berth-testhelper; $T cat /etc/secret | wc -c; $T stat /etc/secret; $T ls /secretdir | wc -l; $T write /secretdir/x y'
	assert_success
	assert_eq "$(sed -n 1p <<<"$output")" 0 "bytes read from a masked file"
	assert_json "$(sed -n 2p <<<"$output")" '.type == "char" and .major == 1 and .minor == 3'
	assert_eq "$(sed -n 3p <<<"$output")" 0 "entries in a masked directory"
	assert_eq "$(sed -n 4p <<<"$output")" EROFS "write into a masked directory"
	assert_eq "$(cat "$BUNDLE/rootfs/etc/secret")" secret "the masked file on the host"
}

@test "maskedPaths from the default spec: /proc/timer_list reads empty" {
	requires_helper
	[ -e /proc/timer_list ] || skip "no /proc/timer_list on this kernel"
	jq -e '.linux.maskedPaths | index("/proc/timer_list") != null' "$BUNDLE/config.json" >/dev/null ||
		fail "default spec does not mask /proc/timer_list"
	run_ctr /bin/sh -c '/bin/berth-testhelper cat /proc/timer_list | wc -c'
	assert_success
	assert_eq "$output" 0 "bytes read from /proc/timer_list"
}

@test "readonlyPaths: writes fail with EROFS, elsewhere they work" {
	requires_helper
	set_cfg '.linux.readonlyPaths += ["/etc"]'
	run_ctr /bin/sh -c 'T=/bin/berth-testhelper; $T write /etc/x y; $T write /proc/sys/kernel/hostname x; $T write /tmp/x y'
	assert_success
	assert_eq "$output" "$(printf 'EROFS\nEROFS\nok')" "writes to /etc, /proc/sys, /tmp"
}

@test "masking uses a real /dev/null, not what the rootfs put there" {
	# runc 1.1.5 bind-mounts the symlink's target over the masked path and
	# writes into it.
	skip_unless_berth "runc 1.1 follows a rootfs /dev/null symlink when masking"
	requires_helper
	# No /dev tmpfs: the runtime fills the rootfs's own /dev, where a hostile
	# image left /dev/null as a symlink to a file.
	set_cfg '.mounts |= map(select(.destination != "/dev" and (.destination | startswith("/dev/") | not)))
		| .linux.maskedPaths = ["/etc/secret"]'
	echo secret >"$BUNDLE/rootfs/etc/secret"
	echo precious >"$BUNDLE/rootfs/etc/target"
	ln -s /etc/target "$BUNDLE/rootfs/dev/null"
	run_ctr /bin/sh -c 'T=/bin/berth-testhelper; $T stat /etc/secret; $T cat /etc/secret | head -c 100 | wc -c; $T stat /dev/null'
	if [ "$status" -eq 0 ]; then
		assert_json "$(sed -n 1p <<<"$output")" '.type == "char" and .major == 1 and .minor == 3'
		assert_eq "$(sed -n 2p <<<"$output")" 0 "bytes read from the masked file"
		assert_json "$(sed -n 3p <<<"$output")" '.type == "char" and .major == 1 and .minor == 3'
	fi
	assert_eq "$(cat "$BUNDLE/rootfs/etc/target")" precious "the symlink's target"
}

# ---- idmapped mounts -------------------------------------------------------------

# A host directory owned by root, with a file owned by 1000:1000.
make_idmap_src() {
	IDM=$BATS_TEST_TMPDIR/idm
	mkdir -p "$IDM"
	echo hi >"$IDM/rootfile"
	echo hi >"$IDM/userfile"
	chown 1000:1000 "$IDM/userfile"
}

@test "idmap: a root-owned host directory is root's inside a user namespace" {
	make_idmap_src
	# The mapped root (an unprivileged id on the host) must be able to reach the rootfs.
	local d=$BUNDLE
	while [ "$d" != / ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
	set_cfg '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .mounts += [{destination: "/tmp/idm", type: "bind", source: $s, options: ["bind", "idmap"]},
			{destination: "/tmp/plain", type: "bind", source: $s, options: ["bind"]}]' --arg s "$IDM"
	run_ctr /bin/sh -c 'stat -c "%u:%g %n" /tmp/idm/rootfile /tmp/idm/userfile /tmp/plain/rootfile'
	assert_success
	assert_eq "$output" $'0:0 /tmp/idm/rootfile\n1000:1000 /tmp/idm/userfile\n65534:65534 /tmp/plain/rootfile' \
		"owners through the idmapped and the plain bind"
	# The source on the host is untouched.
	assert_eq "$(stat -c %u:%g "$IDM/rootfile")" 0:0 "host owner"
}

@test "idmap: the mount's own mappings, without a user namespace" {
	make_idmap_src
	set_cfg '.mounts += [{destination: "/tmp/idm", type: "bind", source: $s, options: ["rbind", "ridmap"],
		uidMappings: [{containerID: 0, hostID: 5000, size: 2000}],
		gidMappings: [{containerID: 0, hostID: 5000, size: 2000}]}]' --arg s "$IDM"
	run_ctr /bin/sh -c 'stat -c "%u:%g" /tmp/idm/rootfile /tmp/idm/userfile; touch /tmp/idm/new'
	# Disk 0 shows as 5000 and 1000 as 6000. Root here has no on-disk id
	# through this mount (no id maps to 0), so creating a file is refused
	# (EOVERFLOW) and nothing lands on the host.
	assert_eq "$output" $'5000:5000\n6000:6000' "owners"
	assert_contains "$stderr" "Value too large" "touch as an unmapped id"
	[ ! -e "$IDM/new" ] || fail "root created a file through a mount that maps no id to 0"
}

@test "idmap: refused with a clear error where it cannot apply" {
	make_idmap_src
	set_cfg '.mounts += [{destination: "/tmp/idm", type: "bind", source: $s, options: ["bind", "idmap"]}]' \
		--arg s "$IDM"
	run_ctr /bin/true
	assert_failure
	assert_contains "$stderr" "idmap needs uidMappings and gidMappings" stderr
	set_cfg '.mounts[-1] = {destination: "/tmp/t", type: "tmpfs", source: "tmpfs", options: ["idmap"],
		uidMappings: [{containerID: 0, hostID: 5000, size: 10}], gidMappings: [{containerID: 0, hostID: 5000, size: 10}]}'
	run_ctr /bin/true
	assert_failure
	assert_contains "$stderr" "bind mounts only" stderr
	[ -z "$(runtime list -q)" ] || fail "containers left: $(runtime list -q)"
}
