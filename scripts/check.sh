#!/bin/bash
# `make check`: build, unit tests (plain and under ASan+UBSan), a fuzz smoke
# run, the integration suites, and the cgroup suites again on pure cgroup v2
# in a qemu VM (scripts/check-cgroup2.sh; CHECK_CGROUP2=0 skips it); ends
# with one line
#   check: N passed, N failed, N skipped
# counting test cases (cmocka cases, fuzz targets, bats tests).
set -u
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
BUILD_ASAN=${BUILD_ASAN:-build-asan}
BUILD_FUZZ=${BUILD_FUZZ:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
LOG_DIR=${LOG_DIR:-$BUILD/check-logs}

passed=0 failed=0 skipped=0
failures=()

note() { printf '\n=== %s\n' "$*"; }
fail_stage() { failed=$((failed + 1)); failures+=("$1"); }

setup_build() { # dir, meson args...
        local dir=$1
        shift
        if [ ! -f "$dir/build.ninja" ]; then
                meson setup "$dir" "$@" >"$LOG_DIR/$(basename "$dir")-setup.log" 2>&1 || {
                        cat "$LOG_DIR/$(basename "$dir")-setup.log"
                        return 1
                }
        fi
        ninja -C "$dir" >"$LOG_DIR/$(basename "$dir")-build.log" 2>&1 || {
                tail -50 "$LOG_DIR/$(basename "$dir")-build.log"
                return 1
        }
}

# Counts cmocka's "[  PASSED  ] N test(s)." style summary of one binary.
run_cmocka() { # label, binary
        local label=$1 bin=$2 out rc p f s
        out=$("$bin" 2>&1)
        rc=$?
        p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
        f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
        s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
        p=${p:-0} f=${f:-0} s=${s:-0}
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
                f=1 # crashed or sanitizer report
        fi
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
        printf '%-40s %3d passed %3d failed %3d skipped\n' "$label" "$p" "$f" "$s"
        if [ "$f" -ne 0 ]; then
                printf '%s\n' "$out" | grep -v '^\[ \(RUN\|       OK\) ' | tail -40
                failures+=("$label")
        fi
}

run_unit() { # label-prefix, build dir
        local t
        for t in "$2"/tests/unit/test-*; do
                [ -f "$t" ] && [ -x "$t" ] || continue
                run_cmocka "$1 $(basename "$t")" "$t"
        done
}

run_bats() { # label, bats files...
        local label=$1 out rc
        shift
        out=$(bats --tap "$@" 2>&1)
        rc=$?
        count_tap "$label" "$rc" "$out"
}

# Counts a TAP stream's ok/skip/not ok lines; a failed run without any
# "not ok" (a crash, a VM that never reported) is one failure.
count_tap() { # label, exit status, TAP
        local label=$1 rc=$2 out=$3 p f s
        p=$(printf '%s\n' "$out" | grep -c '^ok .*' || true)
        s=$(printf '%s\n' "$out" | grep -c '^ok .* # skip' || true)
        f=$(printf '%s\n' "$out" | grep -c '^not ok ' || true)
        p=$((p - s))
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
                f=1
        fi
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
        printf '%-40s %3d passed %3d failed %3d skipped\n' "$label" "$p" "$f" "$s"
        printf '%s\n' "$out" >"$LOG_DIR/$label.tap"
        if [ "$f" -ne 0 ]; then
                printf '%s\n' "$out" | awk '/^not ok /{p=1} /^ok /{p=0} p' | head -150
                failures+=("$label")
        fi
}

mkdir -p "$LOG_DIR"

note "build"
if ! setup_build "$BUILD" --buildtype=debugoptimized; then
        echo "check: 0 passed, 1 failed, 0 skipped"
        exit 1
fi
# The runtime as the tests drive it: the integration suites read these.
export BERTH_RUNTIME="$PWD/$BUILD/src/cli/berth-runtime"
export BERTH_TESTHELPER="$PWD/$BUILD/tests/helper/berth-testhelper"
export BERTH="$PWD/$BUILD/src/cli/berth"

note "unit tests"
run_unit unit "$BUILD"

note "unit tests under ASan+UBSan"
if setup_build "$BUILD_ASAN" --buildtype=debug -Db_sanitize=address,undefined \
        -Db_lundef=false -Dstatic_runtime=false; then
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                run_unit asan "$BUILD_ASAN"
else
        fail_stage "asan build"
fi

note "fuzz smoke (${FUZZ_SECONDS}s a target)"
if CC=clang setup_build "$BUILD_FUZZ" --buildtype=debug -Dfuzz=true -Dstatic_runtime=false; then
        for f in "$BUILD_FUZZ"/tests/fuzz/fuzz-*; do
                [ -f "$f" ] && [ -x "$f" ] || continue
                name=$(basename "$f")
                corpus="tests/fuzz/corpus/${name#fuzz-}"
                work=$(mktemp -d)
                cp -r "$corpus"/. "$work"/ 2>/dev/null || true
                if "$f" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
                        -artifact_prefix="$LOG_DIR/$name-" "$work" >"$LOG_DIR/$name.log" 2>&1; then
                        passed=$((passed + 1))
                        printf '%-40s ok\n' "$name"
                else
                        tail -30 "$LOG_DIR/$name.log"
                        fail_stage "$name"
                fi
                rm -rf "$work"
        done
else
        fail_stage "fuzz build"
fi

note "integration tests"
if compgen -G "tests/integration/*.bats" >/dev/null; then
        run_bats integration tests/integration/*.bats
fi

# This host's cgroups are hybrid v1/v2; most users run pure v2, so the
# cgroup suites run again in a qemu VM that boots a kernel with v2 only.
# CHECK_CGROUP2=0 leaves it out of a quick local run.
if [ "${CHECK_CGROUP2:-1}" = 1 ]; then
        note "cgroup v2 suites in a VM (scripts/check-cgroup2.sh)"
        out=$(scripts/check-cgroup2.sh "$BUILD" 2>"$LOG_DIR/cgroup2.err")
        rc=$?
        count_tap cgroup2-vm "$rc" "$out"
        if [ "$rc" -ne 0 ]; then
                tail -20 "$LOG_DIR/cgroup2.err"
        fi
fi

echo
if [ ${#failures[@]} -ne 0 ]; then
        echo "failed: ${failures[*]}"
fi
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
