#!/usr/bin/env bash
# Runtime benchmark: N sequential `RUNTIME run` of /bin/true, berth-runtime
# against crun and runc on the same bundle, plus a floor (unshare + chroot).
#
#   bench/runtime.sh BUILD_DIR [--write-docs]
#
# The runtime under test is BUILD_DIR/src/cli/berth-runtime, or $BERTH_RUNTIME.
# Environment:
#   BENCH_N=100          measured runs per runtime
#   BENCH_WARMUP=5       warm-up runs per runtime (not measured)
#   BENCH_RSS_N=20       extra runs under GNU time for the peak RSS
#   BENCH_WRITE_DOCS=1   same as --write-docs: (re)write the "Runtime" section
#                        of docs/benchmarks.md
#
# ms / container is the wall time of the whole loop of N runs divided by N;
# the median is of the per-run wall times (taken with bash's $EPOCHREALTIME,
# no fork). Peak RSS is the maximum of GNU time's %M over BENCH_RSS_N runs,
# made apart from the timed loop: the largest RSS of the runtime process and
# of the processes it reaped (the container's init before its execve counts).
#
# crun 1.8.1 refuses a hybrid host whose cgroup v2 hierarchy has controllers
# ("cgroups in hybrid mode not supported, drop all controllers from
# cgroupv2"). When it says so, crun is measured inside a private mount
# namespace (unshare --mount --propagation private) in which
# /sys/fs/cgroup/unified is unmounted, so crun sees a cgroup v1 host. Nothing
# changes outside that namespace, which goes away with its last process.
# (Mounting hugetlb as a v1 hierarchy instead is not namespace-local: the
# kernel rebinds the controller for the whole host.)
set -euo pipefail
export LC_ALL=C

prog=bench/runtime.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
warn() { echo "$prog: warning: $*" >&2; }
note() { echo "$prog: $*" >&2; }

N=${BENCH_N:-100}
WARMUP=${BENCH_WARMUP:-5}
RSS_N=${BENCH_RSS_N:-20}
GNU_TIME=/usr/bin/time
UNIFIED=/sys/fs/cgroup/unified
export N WARMUP RSS_N

now_us() { REPLY=${EPOCHREALTIME/./}; }

# ---------------------------------------------------------------------------
# Internal mode: measure one runtime. Runs in a child process so that crun's
# can run inside its own mount namespace.
#   runtime.sh __measure OUT NAME KIND RUNTIME STATE BUNDLE PREFIX
# KIND is "runtime" (RUNTIME --root STATE run --bundle BUNDLE ID) or "floor"
# (unshare ... chroot BUNDLE/rootfs /bin/true). Writes OUT/NAME.{total,runs,rss};
# on a failed run, OUT/NAME.err holds its stderr and the exit status is 3.
# ---------------------------------------------------------------------------

# In crun's mount namespace: make crun see a cgroup v1 host.
hide_unified() {
        [[ $(readlink /proc/self/ns/mnt) != "${BENCH_HOST_MNTNS:?}" ]] ||
                die "refusing to unmount $UNIFIED outside a private mount namespace"
        mountpoint -q "$UNIFIED" || return 0
        umount "$UNIFIED" 2>/dev/null ||
                mount -t tmpfs -o ro,size=4k,mode=0755 bench-hide-unified "$UNIFIED" ||
                die "cannot unmount or cover $UNIFIED in the private mount namespace"
}

# Delete whatever containers are left in STATE.
cleanup_state() { # RUNTIME STATE
        local rt=$1 state=$2 d
        [[ -d $state ]] || return 0
        for d in "$state"/*/; do
                [[ -d $d ]] || continue
                d=${d%/}
                "$rt" --root "$state" delete --force "${d##*/}" >/dev/null 2>&1 ||
                        warn "$rt delete --force ${d##*/} failed"
        done
}

measure() {
        local out=$1 name=$2 kind=$3 rt=$4 state=$5 bundle=$6 prefix=$7
        local err="$out/$name.err" i a b t0 t1
        local -a cmd runs=()
        [[ ${BENCH_HIDE_UNIFIED:-0} == 1 ]] && hide_unified
        case $kind in
        runtime) cmd=("$rt" --root "$state" run --bundle "$bundle") ;;
        floor) cmd=(unshare --pid --fork --mount --uts --ipc --net chroot "$bundle/rootfs" /bin/true) ;;
        *) die "unknown kind $kind" ;;
        esac
        # shellcheck disable=SC2064 # expanded now: the locals are gone at exit
        [[ $kind == runtime ]] && trap "cleanup_state $(printf %q "$rt") $(printf %q "$state")" EXIT
        # one ID: run once; the id is ignored by the floor
        one() {
                if [[ $kind == runtime ]]; then
                        "${cmd[@]}" "$1" </dev/null >/dev/null 2>"$err"
                else
                        "${cmd[@]}" </dev/null >/dev/null 2>"$err"
                fi
        }
        failed() {
                echo "$1 (exit status $2)" >>"$err"
                exit 3
        }

        for ((i = 1; i <= WARMUP; i++)); do
                one "$prefix-w$i" || failed "warm-up run $i failed" $?
        done

        now_us; t0=$REPLY
        for ((i = 1; i <= N; i++)); do
                now_us; a=$REPLY
                one "$prefix-$i" || failed "run $i failed" $?
                now_us; b=$REPLY
                runs+=($((b - a)))
        done
        now_us; t1=$REPLY
        echo $((t1 - t0)) >"$out/$name.total"
        printf '%s\n' "${runs[@]}" >"$out/$name.runs"

        : >"$out/$name.rss"
        if [[ -x $GNU_TIME ]]; then
                for ((i = 1; i <= RSS_N; i++)); do
                        if [[ $kind == runtime ]]; then
                                "$GNU_TIME" -f %M -a -o "$out/$name.rss" -- "${cmd[@]}" "$prefix-m$i" </dev/null >/dev/null 2>"$err" ||
                                        failed "RSS run $i failed" $?
                        else
                                "$GNU_TIME" -f %M -a -o "$out/$name.rss" -- "${cmd[@]}" </dev/null >/dev/null 2>"$err" ||
                                        failed "RSS run $i failed" $?
                        fi
                done
        fi
        rm -f "$err"
}

if [[ ${1:-} == __measure ]]; then
        shift
        # A runtime in the foreground forwards ^C to its container and exits
        # normally, so stop the loop explicitly.
        trap 'exit 130' INT
        trap 'exit 143' TERM
        measure "$@"
        exit 0
fi
if [[ ${1:-} == __cleanup ]]; then
        [[ ${BENCH_HIDE_UNIFIED:-0} == 1 ]] && hide_unified
        cleanup_state "$2" "$3"
        exit 0
fi

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
usage() { echo "usage: $prog BUILD_DIR [--write-docs]" >&2; exit 2; }
build=
write_docs=${BENCH_WRITE_DOCS:-0}
for arg; do
        case $arg in
        --write-docs) write_docs=1 ;;
        -h | --help) usage ;;
        -*) echo "$prog: unknown option $arg" >&2; usage ;;
        *) [[ -z $build ]] || usage; build=$arg ;;
        esac
done
[[ -n $build ]] || usage

for v in N WARMUP RSS_N; do
        [[ ${!v} =~ ^[0-9]+$ ]] || die "BENCH_$v must be a non-negative integer, not '${!v}'"
done
((N > 0)) || die "BENCH_N must be at least 1"
((EUID == 0)) || die "must run as root (containers need namespaces, mounts and cgroups)"

script=$(readlink -f "$0")
here=$(dirname "$script")
repo=$(cd "$here/.." && pwd)
mkrootfs="$here/../scripts/mk-busybox-rootfs.sh"
docs="$repo/docs/benchmarks.md"

berth=${BERTH_RUNTIME:-$build/src/cli/berth-runtime}
[[ -x $berth ]] || die "berth-runtime not found at '$berth': run 'make build' or set BERTH_RUNTIME"
berth=$(readlink -f "$berth")
for tool in jq unshare chroot mountpoint; do
        command -v "$tool" >/dev/null || die "'$tool' is needed (apt-get install -y jq util-linux coreutils)"
done
[[ -x $mkrootfs ]] || die "$mkrootfs is missing"
[[ -x $GNU_TIME ]] || warn "GNU time ($GNU_TIME) is missing, peak RSS will be n/a (apt-get install -y time)"

first_line() { # CMD...: the first line of its output, or nothing
        local o
        o=$("$@" 2>&1) || true
        printf '%s' "${o%%$'\n'*}"
}

tmp=$(mktemp -d /tmp/berth-bench.XXXXXX)
prefix="bench-$$"
host_mntns=$(readlink /proc/self/ns/mnt)
mountinfo_before=$(cut -d' ' -f4- /proc/self/mountinfo | sort)
export BENCH_HOST_MNTNS=$host_mntns

# name -> runtime binary, extra wrapper ("" or "hide"), result or n/a reason
declare -A rt_bin wrap na
names=(berth-runtime crun runc)
rt_bin[berth-runtime]=$berth
for peer in crun runc; do
        if p=$(command -v "$peer"); then
                rt_bin[$peer]=$p
        else
                na[$peer]="n/a (not installed)"
                warn "$peer is not installed: skipping it"
        fi
done

# Runs the child that measures or cleans NAME, in crun's namespace if needed.
child() { # NAME ARGS...
        local name=$1
        shift
        if [[ ${wrap[$name]:-} == hide ]]; then
                BENCH_HIDE_UNIFIED=1 unshare --mount --propagation private -- bash "$script" "$@"
        else
                bash "$script" "$@"
        fi
}

cleanup() {
        local rc=$? name
        trap - EXIT INT TERM
        for name in "${names[@]}"; do
                [[ -n ${rt_bin[$name]:-} && -d $tmp/state-$name ]] || continue
                child "$name" __cleanup "${rt_bin[$name]}" "$tmp/state-$name" || true
        done
        if grep -qF " $tmp" /proc/self/mountinfo; then
                warn "something is mounted under $tmp; leaving it in place"
        else
                rm -rf "$tmp"
        fi
        # leftovers: cgroups named after our containers, processes, mounts
        local left
        left=$(find /sys/fs/cgroup -depth -type d -name "$prefix-*" 2>/dev/null || true)
        if [[ -n $left ]]; then
                warn "removing leftover cgroups:"$'\n'"$left"
                xargs -r rmdir <<<"$left" 2>/dev/null || true
        fi
        if pgrep -f -- "$prefix-" >/dev/null; then
                warn "processes of the bench are still running:"
                pgrep -a -f -- "$prefix-" >&2 || true
        fi
        local after
        after=$(cut -d' ' -f4- /proc/self/mountinfo | sort)
        if [[ $after != "$mountinfo_before" ]]; then
                warn "the host's mount table changed during the bench (by this script or something else):"
                diff <(echo "$mountinfo_before") <(echo "$after") >&2 || true
        fi
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the bundle, shared by every runtime -----------------------------------
bundle="$tmp/bundle"
mkdir -p "$bundle"
"$mkrootfs" "$bundle/rootfs" >/dev/null || die "could not make the busybox rootfs"
"$berth" spec --bundle "$bundle" || die "$berth spec failed"
# crun 1.8.1 only accepts ociVersion 1.0.x ("unknown version specified");
# runc and berth-runtime do not care, so the shared bundle says 1.0.2.
jq '.ociVersion = "1.0.2" | .process.terminal = false | .process.args = ["/bin/true"]' \
        "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

# --- measure ----------------------------------------------------------------
run_measure() { # NAME KIND: 0 ok, else the reason is in na[NAME]
        local name=$1 kind=$2 rc=0 msg
        child "$name" __measure "$tmp" "$name" "$kind" "${rt_bin[$name]:-none}" \
                "$tmp/state-$name" "$bundle" "$prefix-$name" || rc=$?
        if ((rc == 0)); then
                unset "na[$name]"
                return 0
        fi
        ((rc == 3)) || exit "$rc" # not the runtime's failure: interrupted, or a bug here
        msg=$(grep -v '^[[:space:]]*$' "$tmp/$name.err" 2>/dev/null | head -n 3 | paste -sd ';' | sed 's/;/; /g' || true)
        na[$name]="n/a (${msg:-exit status $rc})"
        return 1
}

for name in "${names[@]}"; do
        [[ -z ${na[$name]:-} ]] || continue
        note "measuring $name: $WARMUP warm-up + $N timed + $RSS_N RSS runs"
        if run_measure "$name" runtime; then continue; fi
        if [[ $name == crun ]] && grep -q "hybrid mode not supported" "$tmp/crun.err" 2>/dev/null &&
                mountpoint -q "$UNIFIED"; then
                note "crun refuses this hybrid cgroup layout; retrying with $UNIFIED unmounted in a private mount namespace"
                wrap[crun]=hide
                cat "$UNIFIED/cgroup.controllers" >"$tmp/v2-controllers" 2>/dev/null || true
                rm -rf "$tmp/state-crun"
                run_measure crun runtime && continue
        fi
        [[ $name != berth-runtime ]] || die "berth-runtime failed: ${na[$name]}"
        warn "$name: ${na[$name]}"
done
note "measuring the floor: unshare + chroot"
run_measure floor floor || warn "floor: ${na[floor]}"

# --- report -----------------------------------------------------------------
# stats NAME -> "ms_per_container median_ms rss_mb" (rss "n/a" when unmeasured)
stats() {
        local name=$1 total med rss
        total=$(cat "$tmp/$name.total")
        med=$(sort -n "$tmp/$name.runs" | awk '{ v[NR] = $1 } END {
                if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
                printf "%.2f", m / 1000 }')
        rss=$(awk 'BEGIN { m = -1 } /^[0-9]+$/ { if ($1 > m) m = $1 } END {
                if (m < 0) print "n/a"; else printf "%.1f", m / 1024 }' "$tmp/$name.rss")
        awk -v t="$total" -v n="$N" -v med="$med" -v rss="$rss" \
                'BEGIN { printf "%.2f %s %s\n", t / n / 1000, med, rss }'
}

declare -A ms med rss
for name in "${names[@]}" floor; do
        [[ -z ${na[$name]:-} ]] || continue
        read -r "ms[$name]" "med[$name]" "rss[$name]" < <(stats "$name")
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }

# shellcheck disable=SC1091
os=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-}")
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
table=$(
        echo "Machine: $(nproc) CPUs${cpu:+ ($cpu)}, Linux $(uname -r)${os:+, $os}; $(date -u '+%Y-%m-%d %H:%M UTC')."
        echo
        echo "Versions: $(first_line "$berth" --version); $(
                [[ -n ${rt_bin[crun]:-} ]] && first_line crun --version || echo "crun not installed")"'; '"$(
                [[ -n ${rt_bin[runc]:-} ]] && first_line runc --version || echo "runc not installed")."
        echo
        echo "| runtime | ms / container | ratio to berth-runtime | peak RSS (MB) | median ms |"
        echo "|---|---:|---:|---:|---:|"
        for name in "${names[@]}" floor; do
                label=$name
                # shellcheck disable=SC2016 # markdown backticks
                [[ $name == floor ]] && label='floor: `unshare --pid --fork --mount --uts --ipc --net chroot ROOTFS /bin/true`'
                if [[ -n ${na[$name]:-} ]]; then
                        echo "| $label | ${na[$name]//|/\\|} | | | |"
                else
                        echo "| $label | ${ms[$name]} | $(ratio "${ms[$name]}" "${ms[berth-runtime]}") | ${rss[$name]} | ${med[$name]} |"
                fi
        done
        echo
        echo "$N timed runs each after $WARMUP warm-up run(s), one busybox bundle for all, a new container id per run."
        echo "ms / container = wall time of the whole loop / $N; median = median of the per-run wall times;"
        echo "peak RSS = max of GNU time's %M over $RSS_N more runs (the runtime and the processes it reaped)."
        if [[ ${wrap[crun]:-} == hide ]]; then
                echo "$(first_line crun --version) refuses this hybrid cgroup host (controllers on its v2 hierarchy:"
                echo "$(tr '\n' ' ' <"$tmp/v2-controllers" | sed 's/ *$//')), so it ran in a private mount namespace with $UNIFIED"
                echo "unmounted, i.e. as on a cgroup v1 host."
        fi
        if [[ $("$berth" features 2>/dev/null | jq -r '.linux.cgroup.v1' 2>/dev/null) == false ]]; then
                echo "This berth-runtime does not manage cgroups yet; runc and crun create (and remove) a cgroup"
                echo "per controller for every container, which is part of their time."
        fi
)

echo
echo "$table"

# --- docs/benchmarks.md -------------------------------------------------------
if [[ $write_docs == 1 ]]; then
        heading="## Runtime: $N sequential \`run\` of /bin/true"
        if [[ ! -f $docs ]]; then
                cat >"$docs" <<'INTRO'
# Benchmarks

Numbers from the benchmarks in `bench/`. To reproduce them on your machine
(as root), run `make bench`, which builds berth and runs `bench/runtime.sh`;
`bench/runtime.sh BUILD_DIR --write-docs` rewrites the sections below.
INTRO
        fi
        section="$tmp/section.md"
        printf '%s\n\n%s\n' "$heading" "$table" >"$section"
        # Replace the old "## Runtime: ... sequential `run` of /bin/true" section
        # (up to the next "## " heading), or append one.
        awk -v sec="$section" '
                function emit(  line) { while ((getline line < sec) > 0) print line; close(sec); done = 1 }
                /^## Runtime: [0-9]+ sequential `run` of \/bin\/true/ {
                        if (!done) { emit(); print "" } skip = 1; next }
                skip && /^## / { skip = 0 }
                skip { next }
                { print }
                END { if (!done) { print ""; emit() } }
        ' "$docs" >"$docs.new"
        # no doubled blank lines where sections meet
        cat -s "$docs.new" >"$docs"
        rm -f "$docs.new"
        note "wrote the table to $docs"
fi
