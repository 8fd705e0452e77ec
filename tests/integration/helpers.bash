# Shared setup for the berth-runtime integration tests (bats).
#
# Environment:
#   BERTH_RUNTIME     runtime under test; default build/src/cli/berth-runtime
#                     when built, else runc (runc-compatible command line)
#   REF_RUNTIME       reference runtime for differential tests (/usr/bin/runc)
#   BERTH_TESTHELPER  static helper run inside containers
#                     (default build/tests/helper/berth-testhelper)
#   BERTH_TEST_TIMEOUT  seconds any one runtime command may take (60)
#   BATS_TEST_TIMEOUT   seconds any one test may take (300)
#
# Run against runc now, against berth-runtime once built:
#   BERTH_RUNTIME=/usr/bin/runc bats tests/integration/
#   bats tests/integration/            # build/src/cli/berth-runtime
#
# Every test gets its own state root ($STATE_ROOT), its own bundle ($BUNDLE,
# a copy of one busybox rootfs built per run) and unique container ids from
# new_id. teardown deletes every container and fails the test when the
# runtime left processes, mounts, state or cgroups behind.

bats_require_minimum_version 1.5.0

BERTH_SRC_DIR=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

if [ -z "${BERTH_RUNTIME:-}" ]; then
	if [ -x "$BERTH_SRC_DIR/build/src/cli/berth-runtime" ]; then
		BERTH_RUNTIME=$BERTH_SRC_DIR/build/src/cli/berth-runtime
	else
		BERTH_RUNTIME=$(command -v runc || echo /usr/bin/runc)
	fi
fi
: "${REF_RUNTIME:=/usr/bin/runc}"
: "${BERTH_TESTHELPER:=$BERTH_SRC_DIR/build/tests/helper/berth-testhelper}"
: "${BERTH_TEST_TIMEOUT:=60}"
: "${BATS_TEST_TIMEOUT:=300}"
export BERTH_RUNTIME REF_RUNTIME BERTH_TESTHELPER

# The rootfs is built once per run and copied into each bundle.
ROOTFS_CACHE=$BATS_RUN_TMPDIR/rootfs-cache
RUN_TAG=${BATS_RUN_TMPDIR##*-}

# ---- what is under test -----------------------------------------------------

# True when the runtime under test is berth-runtime: assertions on behaviour
# the issue requires but runc 1.1 lacks are gated on this.
is_berth() {
	[[ "$(basename "$BERTH_RUNTIME")" == berth-runtime* ]]
}

is_runc() {
	[ "$(basename "$(readlink -f "$BERTH_RUNTIME")")" = runc ]
}

# skip_unless_berth REASON: the check is a berth requirement that the runtime
# under test (runc 1.1) does not meet.
skip_unless_berth() {
	is_berth || skip "berth-only: $*"
}

requires_helper() {
	[ -x "$BERTH_TESTHELPER" ] ||
		skip "needs berth-testhelper ($BERTH_TESTHELPER is missing: build it or set BERTH_TESTHELPER)"
	[ -x "$ROOTFS_CACHE/bin/berth-testhelper" ] ||
		skip "rootfs cache was built without berth-testhelper"
}

requires_python() {
	[ -x /usr/bin/python3 ] || skip "needs /usr/bin/python3 to receive the console fd"
}

# ---- small assertions ----------------------------------------------------------

fail() {
	printf '%s\n' "$@" >&2
	return 1
}

# Prints what a failing `run` produced.
show_run() {
	printf 'status: %s\n' "$status" >&2
	printf 'output: %s\n' "$output" >&2
	[ -z "${stderr+x}" ] || printf 'stderr: %s\n' "$stderr" >&2
}

assert_status() {
	[ "$status" -eq "$1" ] || {
		show_run
		fail "expected exit status $1, got $status"
	}
}

assert_success() { assert_status 0; }

assert_failure() {
	[ "$status" -ne 0 ] || {
		show_run
		fail "expected a failure, got exit status 0"
	}
}

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$2'" "${3:-value}:      got '$1'"
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
	[[ "$1" == *"$2"* ]] || fail "${3:-text} does not contain '$2':" "$1"
}

assert_not_contains() {
	[[ "$1" != *"$2"* ]] || fail "${3:-text} unexpectedly contains '$2':" "$1"
}

# assert_json JSON FILTER: FILTER must evaluate to true.
assert_json() {
	jq -e "$2" >/dev/null <<<"$1" || fail "JSON check failed: $2" "on: $1"
}

# run_files CMD...: like `run --separate-stderr`, but with stdio on files, so
# a container (or a leaked fd) holding them open cannot block the test.
run_files() {
	local o=$BATS_TEST_TMPDIR/run_files.out e=$BATS_TEST_TMPDIR/run_files.err
	if "$@" </dev/null >"$o" 2>"$e"; then status=0; else status=$?; fi
	output=$(cat "$o")
	stderr=$(cat "$e")
}

# Combined runtime output ($output and, with --separate-stderr, $stderr).
all_output() {
	printf '%s\n%s\n' "$output" "${stderr:-}"
}

# ---- polling -----------------------------------------------------------------------

# retry SECONDS CMD...: run CMD every 0.1s until it succeeds or time runs out.
retry() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# ---- the runtime ------------------------------------------------------------------

# runtime ARGS...: the runtime under test with this test's state root. Fd 3
# (bats' own output) is closed so a leak cannot hang the suite.
runtime() {
	timeout -k 5 "$BERTH_TEST_TIMEOUT" "$BERTH_RUNTIME" --root "$STATE_ROOT" "$@" 3>&-
}

# runtime_keep_fds ARGS...: the same, keeping whatever fds the caller passes.
runtime_keep_fds() {
	timeout -k 5 "$BERTH_TEST_TIMEOUT" "$BERTH_RUNTIME" --root "$STATE_ROOT" "$@"
}

ref_runtime() {
	timeout -k 5 "$BERTH_TEST_TIMEOUT" "$REF_RUNTIME" --root "$REF_STATE_ROOT" "$@" 3>&-
}

# new_id [TAG]: a container id unique across tests and runs (cgroup paths
# are named after ids), registered for teardown.
new_id() {
	local n
	n=$(wc -l <"$BATS_TEST_TMPDIR/ids")
	local id="bt-$RUN_TAG-$BATS_SUITE_TEST_NUMBER-${1:-c}$n"
	echo "$id" >>"$BATS_TEST_TMPDIR/ids"
	echo "$id"
}

# Files where create_ctr/run_detached send the container's stdio.
ctr_out() { echo "$BATS_TEST_TMPDIR/$1.out"; }
ctr_err() { echo "$BATS_TEST_TMPDIR/$1.err"; }

# create_ctr ID [FLAGS...]: `create` with stdio to files (a pipe would keep
# a caller's $(...) waiting on the container).
create_ctr() {
	local id=$1
	shift
	runtime create --bundle "$BUNDLE" "$@" "$id" </dev/null >"$(ctr_out "$id")" 2>"$(ctr_err "$id")" || {
		local rc=$?
		cat "$(ctr_err "$id")" >&2
		fail "create $id failed with status $rc"
		return $rc
	}
}

# run_detached ID [FLAGS...]: `run --detach`, stdio to files.
run_detached() {
	local id=$1
	shift
	runtime run --detach --bundle "$BUNDLE" "$@" "$id" </dev/null >"$(ctr_out "$id")" 2>"$(ctr_err "$id")" || {
		local rc=$?
		cat "$(ctr_err "$id")" >&2
		fail "run --detach $id failed with status $rc"
		return $rc
	}
}

ctr_status() {
	runtime state "$1" 2>/dev/null | jq -r .status
}

ctr_pid() {
	runtime state "$1" | jq -r .pid
}

status_is() {
	[ "$(ctr_status "$1")" = "$2" ]
}

# wait_status ID STATUS [SECONDS]
wait_status() {
	retry "${3:-20}" status_is "$1" "$2" || {
		runtime state "$1" >&2
		fail "container $1 did not reach status '$2' (now: '$(ctr_status "$1")')"
	}
}

# A detached helper running `pause`, with its status polled to running.
start_pause_ctr() {
	set_helper_args pause
	run_detached "$1" && wait_status "$1" running
}

# ---- bundles and config -------------------------------------------------------------

# make_bundle [DIR]: rootfs copy plus `runtime spec`, with terminal off and
# a writable root (tests that want it read-only say so).
make_bundle() {
	local dir=${1:-$BUNDLE}
	mkdir -p "$dir"
	cp -a "$ROOTFS_CACHE" "$dir/rootfs"
	echo "$dir/rootfs" >>"$BATS_TEST_TMPDIR/rootfses"
	(cd "$dir" && "$BERTH_RUNTIME" spec 3>&-) || fail "'$BERTH_RUNTIME spec' failed in $dir"
	CFG_FILE=$dir/config.json set_cfg '.process.terminal = false | .root.readonly = false'
}

# set_cfg FILTER [JQ-ARGS...]: edit $CFG_FILE (default $BUNDLE/config.json).
set_cfg() {
	local cfg=${CFG_FILE:-$BUNDLE/config.json} filter=$1
	shift
	jq "$@" "$filter" "$cfg" >"$cfg.new" || {
		rm -f "$cfg.new"
		fail "jq filter failed on $cfg: $filter"
		return 1
	}
	mv "$cfg.new" "$cfg"
}

# json_array ARGS...: the arguments as a JSON array of strings.
json_array() {
	local a='[]' s
	for s in "$@"; do
		a=$(jq -c --arg s "$s" '. + [$s]' <<<"$a")
	done
	echo "$a"
}

set_args() {
	set_cfg '.process.args = $a' --argjson a "$(json_array "$@")"
}

set_helper_args() {
	set_args /bin/berth-testhelper "$@"
}

# run_ctr ARGS...: run a new container in the foreground with these args;
# $status, $output (container stdout) and $stderr as from bats' run (but
# without bats' warning when a runtime exits 127 for a missing command).
run_ctr() {
	set_args "$@"
	local id
	id=$(new_id)
	run_files runtime run --bundle "$BUNDLE" "$id"
}

# helper_report: run the bundle with `berth-testhelper report`; $REPORT.
helper_report() {
	run_ctr /bin/berth-testhelper report
	[ "$status" -eq 0 ] || {
		show_run
		fail "report container failed"
		return 1
	}
	REPORT=$output
	jq -e 'type == "object"' >/dev/null <<<"$REPORT" || fail "report is not a JSON object: $REPORT"
}

# rj FILTER: jq -r on the last report.
rj() {
	jq -r "$1" <<<"$REPORT"
}

# The host's namespace of a type, as the helper's report writes it.
host_ns() {
	readlink "/proc/self/ns/$1"
}

# ---- cleanup ------------------------------------------------------------------------

# defer CMD: run CMD (a string for eval) in teardown, before the leak checks.
defer() {
	_DEFERRED+=("$1")
}

# bg_pid PID: a background process of the test, killed in teardown.
bg_pid() {
	defer "kill $1 2>/dev/null; wait $1 2>/dev/null"
}

ensure_rootfs() {
	[ -e "$ROOTFS_CACHE.done" ] && return 0
	(
		flock 9
		[ -e "$ROOTFS_CACHE.done" ] && exit 0
		rm -rf "$ROOTFS_CACHE.tmp"
		local helper=
		[ -x "$BERTH_TESTHELPER" ] && helper=$BERTH_TESTHELPER
		sh "$BERTH_SRC_DIR/scripts/mk-busybox-rootfs.sh" "$ROOTFS_CACHE.tmp" ${helper:+"$helper"} >&2 || exit 1
		mv "$ROOTFS_CACHE.tmp" "$ROOTFS_CACHE" && touch "$ROOTFS_CACHE.done"
	) 9>"$BATS_RUN_TMPDIR/rootfs.lock" || fail "could not build the busybox rootfs"
}

setup() {
	STATE_ROOT=$BATS_TEST_TMPDIR/state
	REF_STATE_ROOT=$BATS_TEST_TMPDIR/ref-state
	BUNDLE=$BATS_TEST_TMPDIR/bundle
	_DEFERRED=()
	: >"$BATS_TEST_TMPDIR/ids"
	: >"$BATS_TEST_TMPDIR/rootfses"
	ensure_rootfs
	make_bundle
}

# Processes whose root directory is one of this test's rootfs copies.
leftover_pids() {
	local keys=() r p k
	while read -r r; do
		[ -d "$r" ] && keys+=("$(stat -c %d:%i "$r")")
	done <"$BATS_TEST_TMPDIR/rootfses"
	[ ${#keys[@]} -gt 0 ] || return 0
	for p in /proc/[0-9]*; do
		k=$(stat -L -c %d:%i "$p/root" 2>/dev/null) || continue
		for r in "${keys[@]}"; do
			[ "$k" = "$r" ] && echo "${p#/proc/}"
		done
	done
}

no_leftover_pids() {
	[ -z "$(leftover_pids)" ]
}

teardown() {
	local rc=0 id ids pids mounts i cgroups=

	ids=$(
		cat "$BATS_TEST_TMPDIR/ids"
		runtime list -q 2>/dev/null
	)
	for id in $(sort -u <<<"$ids"); do
		runtime delete --force "$id" >/dev/null 2>&1 || true
		[ -d "$REF_STATE_ROOT" ] && ref_runtime delete --force "$id" >/dev/null 2>&1 || true
	done
	for ((i = ${#_DEFERRED[@]} - 1; i >= 0; i--)); do
		eval "${_DEFERRED[i]}" || true
	done

	if [ -n "$(runtime list -q 2>/dev/null)" ]; then
		echo "teardown: containers still listed after delete --force:" >&2
		runtime list >&2
		rc=1
	fi
	for id in $(cat "$BATS_TEST_TMPDIR/ids"); do
		if [ -e "$STATE_ROOT/$id" ]; then
			echo "teardown: state left behind: $STATE_ROOT/$id" >&2
			rc=1
		fi
		cgroups+=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "$id" 2>/dev/null)$'\n'
	done
	if ! retry 10 no_leftover_pids; then
		pids=$(leftover_pids)
		echo "teardown: container processes left behind:" >&2
		ps -o pid,ppid,stat,args -p "$(echo $pids | tr ' ' ,)" >&2 || true
		kill -9 $pids 2>/dev/null || true
		rc=1
	fi
	cgroups=$(sed '/^$/d' <<<"$cgroups")
	if [ -n "$cgroups" ]; then
		echo "teardown: cgroups left behind:" $cgroups >&2
		# Deepest first; a cgroup with processes stays (and shows above).
		sort -r <<<"$cgroups" | while read -r i; do
			find "$i" -depth -type d -exec rmdir {} + 2>/dev/null || true
		done
		rc=1
	fi
	mounts=$(awk -v d="$BATS_TEST_TMPDIR" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)
	if [ -n "$mounts" ]; then
		echo "teardown: mounts left behind:" $mounts >&2
		for i in $(sort -r <<<"$mounts"); do umount -l "$i" 2>/dev/null || true; done
		rc=1
	fi
	return $rc
}
