#!/usr/bin/env bash
# Runtime benchmark: berth-runtime against crun and runc, in one run, on one
# busybox rootfs:
#   default   N sequential `RUNTIME run` of /bin/true, plus a floor
#             (unshare + chroot)
#   limits    the same with linux.resources: memory 256 MiB, pids 128, cpu
#             shares 512, quota 50000 / period 100000 (the cgroup cost)
#   seccomp   the same with a seccomp profile of Docker's default size:
#             podman's default profile (containers-common), converted to OCI
#             linux.seccomp by bench/seccomp-to-oci.jq
#   memfloor  the smallest memory limit (swap = limit, so no swap) under which
#             `run` of /bin/true still exits 0, by binary search
#
#   bench/runtime.sh BUILD_DIR [--write-docs]
#
# The runtime under test is BUILD_DIR/src/cli/berth-runtime, or $BERTH_RUNTIME.
# Environment:
#   BENCH_N=100          measured runs per runtime and scenario
#   BENCH_WARMUP=5       warm-up runs per runtime and scenario (not measured)
#   BENCH_RSS_N=20       extra runs under GNU time for the peak RSS
#   BENCH_COLD_N=10      seccomp runs with a fresh state root each (berth-runtime
#                        caches compiled seccomp programs in its state root)
#   BENCH_MEM_STEP_KIB=16  resolution of the memory floor search, which runs
#                        between 64 KiB and 64 MiB
#   BENCH_MEM_CONFIRM=3  runs in a row that must exit 0 for a limit to count
#   BENCH_SCENARIOS="default limits seccomp memfloor"  what to run
#   BENCH_SECCOMP_PROFILE=/usr/share/containers/seccomp.json
#   BENCH_WRITE_DOCS=1   same as --write-docs: (re)write the "Runtime" sections
#                        of docs/benchmarks.md (needs every scenario)
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
# /sys/fs/cgroup/unified is unmounted (and covered by an empty tmpfs), so crun
# sees a cgroup v1 host. Nothing changes outside that namespace, which goes
# away with its last process.
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
COLD_N=${BENCH_COLD_N:-10}
MEM_STEP=${BENCH_MEM_STEP_KIB:-16}
MEM_CONFIRM=${BENCH_MEM_CONFIRM:-3}
MEM_LO=64         # KiB
MEM_HI=65536      # KiB
MEM_TIMEOUT=30    # seconds for one `run` in the memory floor search
GNU_TIME=/usr/bin/time
UNIFIED=/sys/fs/cgroup/unified
export N WARMUP RSS_N COLD_N MEM_STEP MEM_CONFIRM

now_us() { REPLY=${EPOCHREALTIME/./}; }

# ---------------------------------------------------------------------------
# Internal modes, each in a child process so that crun's can run inside its
# own mount namespace:
#   runtime.sh __measure OUT NAME KIND RUNTIME STATE BUNDLE PREFIX
#   runtime.sh __cold OUT NAME RUNTIME STATE BUNDLE PREFIX
#   runtime.sh __memfloor OUT NAME RUNTIME STATE BUNDLE PREFIX
#   runtime.sh __cleanup RUNTIME STATE
#   runtime.sh __shadowed PATTERN   (in a private mount namespace)
# On a failed run, OUT/NAME.err holds its stderr and the exit status is 3.
# ---------------------------------------------------------------------------

# In crun's mount namespace: make crun see a cgroup v1 host. crun 1.8.1 still
# makes a directory (with a cgroup.procs file) for the "0::" line of
# /proc/self/cgroup under $UNIFIED and never removes it; on the bare mount
# point that would land in the host's /sys/fs/cgroup tmpfs, hidden under the
# cgroup2 mount, so a private tmpfs covers the mount point and takes them.
hide_unified() {
        [[ $(readlink /proc/self/ns/mnt) != "${BENCH_HOST_MNTNS:?}" ]] ||
                die "refusing to unmount $UNIFIED outside a private mount namespace"
        if mountpoint -q "$UNIFIED"; then
                umount "$UNIFIED" 2>/dev/null || umount -l "$UNIFIED" ||
                        die "cannot unmount $UNIFIED in the private mount namespace"
        fi
        mount -t tmpfs -o size=1m,mode=0755 bench-hide-unified "$UNIFIED" ||
                die "cannot cover $UNIFIED in the private mount namespace"
}

# What is left under the unified mount point itself, in the host's tmpfs
# (e.g. by an older version of this script, which did not cover it).
list_shadowed() { # PATTERN
        [[ $(readlink /proc/self/ns/mnt) != "${BENCH_HOST_MNTNS:?}" ]] ||
                die "refusing to unmount $UNIFIED outside a private mount namespace"
        mountpoint -q "$UNIFIED" && umount "$UNIFIED"
        find "$UNIFIED" -mindepth 1 -maxdepth 1 -name "$1"
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

# Writes OUT/NAME.{total,runs,rss}. KIND is "runtime" (RUNTIME --root STATE
# run --bundle BUNDLE ID) or "floor" (unshare ... chroot BUNDLE/rootfs
# /bin/true).
measure() {
        local out=$1 name=$2 kind=$3 rt=$4 state=$5 bundle=$6 prefix=$7
        local err="$out/$name.err" i a b t0 t1
        local -a cmd runs=()
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

# COLD_N runs, each the first one in a new state root STATE-I (removed after
# it). Writes the per-run wall times to OUT/NAME.runs.
cold() {
        local out=$1 name=$2 rt=$3 state=$4 bundle=$5 prefix=$6
        local err="$out/$name.err" i a b rc st
        local -a runs=()
        # shellcheck disable=SC2064 # expanded now: the locals are gone at exit
        trap "for st in $(printf %q "$state")-*/; do cleanup_state $(printf %q "$rt") \"\${st%/}\"; done" EXIT
        for ((i = 1; i <= COLD_N; i++)); do
                st="$state-$i"
                rc=0
                now_us; a=$REPLY
                "$rt" --root "$st" run --bundle "$bundle" "$prefix-$i" </dev/null >/dev/null 2>"$err" || rc=$?
                now_us; b=$REPLY
                if ((rc != 0)); then
                        echo "fresh-state run $i failed (exit status $rc)" >>"$err"
                        exit 3
                fi
                runs+=($((b - a)))
                cleanup_state "$rt" "$st"
                rm -rf "$st"
        done
        printf '%s\n' "${runs[@]}" >"$out/$name.runs"
        rm -f "$err"
}

# The smallest memory limit, in KiB and a multiple of MEM_STEP between MEM_LO
# and MEM_HI, under which MEM_CONFIRM runs in a row of /bin/true exit 0. The
# search assumes that a larger limit never hurts. BUNDLE/config.json is
# rewritten for every limit tried, from BUNDLE/config.base.json. Writes
# OUT/NAME.floor: "FLOOR_KIB FAIL_KIB FAIL_STATUS FAIL_MESSAGE" where FAIL_* are
# of the highest limit that failed (FLOOR_KIB is 0 when even MEM_HI fails,
# FAIL_KIB is 0 when MEM_LO does not fail), OUT/NAME.log every run, and
# OUT/NAME.leftover the cgroups a failed run left behind (removed here).
memfloor() {
        local out=$1 name=$2 rt=$3 state=$4 bundle=$5 prefix=$6
        local lo=$MEM_LO hi=$MEM_HI mid fail_kib=0 fail_rc=0 fail_msg='' log="$out/$name.log"
        # shellcheck disable=SC2064 # expanded now: the locals are gone at exit
        trap "cleanup_state $(printf %q "$rt") $(printf %q "$state")" EXIT
        : >"$log"
        : >"$out/$name.leftover"
        # enough KIB: 0 when MEM_CONFIRM runs in a row exit 0 under KIB
        enough() {
                local kib=$1 i id rc msg left
                jq --argjson l $((kib * 1024)) '.linux.resources.memory = {limit: $l, swap: $l}' \
                        "$bundle/config.base.json" >"$bundle/config.json" ||
                        die "cannot write $bundle/config.json"
                for ((i = 1; i <= MEM_CONFIRM; i++)); do
                        id="$prefix-$kib-$i"
                        rc=0
                        timeout --kill-after=5 "$MEM_TIMEOUT" "$rt" --root "$state" run --bundle "$bundle" "$id" \
                                </dev/null >/dev/null 2>"$out/$name.stderr" || rc=$?
                        # a failed run may leave a container (stopped or
                        # half-made) and its cgroups
                        "$rt" --root "$state" delete --force "$id" >/dev/null 2>&1 || true
                        # (crun's directory on the tmpfs over $UNIFIED is no cgroup)
                        left=$(find /sys/fs/cgroup -depth -type d -name "$id" \
                                \( -fstype cgroup -o -fstype cgroup2 \) 2>/dev/null || true)
                        if [[ -n $left ]]; then
                                echo "$left" >>"$out/$name.leftover"
                                xargs -r rmdir <<<"$left" 2>/dev/null || true
                        fi
                        msg=$(grep -v '^[[:space:]]*$' "$out/$name.stderr" | head -n 1 || true)
                        echo "$kib KiB run $i: exit status $rc${msg:+: $msg}" >>"$log"
                        if ((rc != 0)); then
                                fail_kib=$kib fail_rc=$rc fail_msg=$msg
                                return 1
                        fi
                done
        }
        if ! enough "$hi"; then
                echo "0 $fail_kib $fail_rc $fail_msg" >"$out/$name.floor"
                return 0
        fi
        if enough "$lo"; then
                echo "$lo 0 0" >"$out/$name.floor"
                return 0
        fi
        while ((hi - lo > MEM_STEP)); do
                mid=$((lo + (hi - lo) / 2 / MEM_STEP * MEM_STEP))
                if enough "$mid"; then hi=$mid; else lo=$mid; fi
        done
        echo "$hi $fail_kib $fail_rc $fail_msg" >"$out/$name.floor"
        rm -f "$out/$name.stderr"
}

if [[ ${1:-} == __* ]]; then
        mode=$1
        shift
        # A runtime in the foreground forwards ^C to its container and exits
        # normally, so stop the loop explicitly.
        trap 'exit 130' INT
        trap 'exit 143' TERM
        [[ ${BENCH_HIDE_UNIFIED:-0} == 1 ]] && hide_unified
        case $mode in
        __measure) measure "$@" ;;
        __cold) cold "$@" ;;
        __memfloor) memfloor "$@" ;;
        __cleanup) cleanup_state "$@" ;;
        __shadowed) list_shadowed "$@" ;;
        *) die "unknown internal mode $mode" ;;
        esac
        exit 0
fi

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
now_us; bench_t0=$REPLY
read -r load_before _ </proc/loadavg
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

for v in N WARMUP RSS_N COLD_N MEM_STEP MEM_CONFIRM; do
        [[ ${!v} =~ ^[0-9]+$ ]] || die "BENCH_$v must be a non-negative integer, not '${!v}'"
done
((N > 0)) || die "BENCH_N must be at least 1"
((MEM_CONFIRM > 0)) || die "BENCH_MEM_CONFIRM must be at least 1"
((MEM_STEP >= 4 && MEM_STEP % 4 == 0 && MEM_LO % MEM_STEP == 0)) ||
        die "BENCH_MEM_STEP_KIB must be a multiple of 4 that divides $MEM_LO, not $MEM_STEP"
all_scenarios="default limits seccomp memfloor"
read -r -a scenarios <<<"${BENCH_SCENARIOS:-$all_scenarios}"
for sc in "${scenarios[@]}"; do
        [[ " $all_scenarios " == *" $sc "* ]] || die "unknown scenario '$sc' in BENCH_SCENARIOS (known: $all_scenarios)"
done
want() { [[ " ${scenarios[*]} " == *" $1 "* ]]; }
if [[ $write_docs == 1 ]]; then
        for sc in $all_scenarios; do
                want "$sc" || die "--write-docs needs every scenario ($all_scenarios); BENCH_SCENARIOS leaves out $sc"
        done
fi
((EUID == 0)) || die "must run as root (containers need namespaces, mounts and cgroups)"

script=$(readlink -f "$0")
here=$(dirname "$script")
repo=$(cd "$here/.." && pwd)
mkrootfs="$here/../scripts/mk-busybox-rootfs.sh"
to_oci="$here/seccomp-to-oci.jq"
docs="$repo/docs/benchmarks.md"
profile=${BENCH_SECCOMP_PROFILE:-/usr/share/containers/seccomp.json}

berth=${BERTH_RUNTIME:-$build/src/cli/berth-runtime}
[[ -x $berth ]] || die "berth-runtime not found at '$berth': run 'make build' or set BERTH_RUNTIME"
berth=$(readlink -f "$berth")
for tool in jq unshare chroot mountpoint timeout; do
        command -v "$tool" >/dev/null || die "'$tool' is needed (apt-get install -y jq util-linux coreutils)"
done
[[ -x $mkrootfs ]] || die "$mkrootfs is missing"
[[ -x $GNU_TIME ]] || warn "GNU time ($GNU_TIME) is missing, peak RSS will be n/a (apt-get install -y time)"
if want seccomp; then
        [[ -r $profile ]] || die "no seccomp profile at $profile (apt-get install -y golang-github-containers-common, or set BENCH_SECCOMP_PROFILE)"
        [[ -r $to_oci ]] || die "$to_oci is missing"
        # includes/excludes.arches use Go's names, archMap libseccomp's
        case $(uname -m) in
        x86_64) go_arch=amd64 scmp_arch=SCMP_ARCH_X86_64 ;;
        aarch64) go_arch=arm64 scmp_arch=SCMP_ARCH_AARCH64 ;;
        *) die "the seccomp scenario knows no architecture names for $(uname -m)" ;;
        esac
fi

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

# name -> runtime binary, extra wrapper ("" or "hide"); KEY -> n/a reason,
# where KEY is NAME or SCENARIO.NAME
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
        local rc=$? name st
        trap - EXIT INT TERM
        for name in "${names[@]}"; do
                [[ -n ${rt_bin[$name]:-} ]] || continue
                for st in "$tmp/state-$name"-*/; do
                        [[ -d $st ]] || continue
                        child "$name" __cleanup "${rt_bin[$name]}" "${st%/}" || true
                done
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
        if [[ ${wrap[crun]:-} == hide ]]; then
                left=$(unshare --mount --propagation private -- bash "$script" __shadowed "$prefix-*" || true)
                [[ -z $left ]] || warn "left in the host's tmpfs under the $UNIFIED mount point:"$'\n'"$left"
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

# --- the bundles --------------------------------------------------------------
# One rootfs for all. The other bundles name it by its absolute path: runc
# refuses a rootfs that is a symlink.
bundle="$tmp/bundle"
mkdir -p "$bundle"
"$mkrootfs" "$bundle/rootfs" >/dev/null || die "could not make the busybox rootfs"
"$berth" spec --bundle "$bundle" || die "$berth spec failed"
# crun 1.8.1 only accepts ociVersion 1.0.x ("unknown version specified");
# runc and berth-runtime do not care, so the shared bundle says 1.0.2.
jq '.ociVersion = "1.0.2" | .process.terminal = false | .process.args = ["/bin/true"]' \
        "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

declare -A bundle_of=([default]=$bundle)
derive() { # DIR FILE JQ-ARGS...: DIR/FILE from the default config
        local dir=$1 file=$2
        shift 2
        mkdir -p "$dir"
        jq --arg root "$bundle/rootfs" "$@" "$bundle/config.json" >"$dir/$file" ||
                die "could not write $dir/$file"
}
if want limits; then
        bundle_of[limits]="$tmp/bundle-limits"
        # shellcheck disable=SC2016 # $root is jq's
        derive "${bundle_of[limits]}" config.json '.root.path = $root | .linux.resources += {
                memory: {limit: 268435456}, pids: {limit: 128},
                cpu: {shares: 512, quota: 50000, period: 100000}}'
fi
if want seccomp; then
        bundle_of[seccomp]="$tmp/bundle-seccomp"
        caps=$(jq -c '.process.capabilities.bounding // []' "$bundle/config.json")
        jq --argjson caps "$caps" --arg arch "$go_arch" --arg scmp_arch "$scmp_arch" \
                -f "$to_oci" "$profile" >"$tmp/seccomp.json" ||
                die "could not convert $profile to an OCI linux.seccomp"
        # shellcheck disable=SC2016 # $root and $seccomp are jq's
        derive "${bundle_of[seccomp]}" config.json --slurpfile seccomp "$tmp/seccomp.json" \
                '.root.path = $root | .linux.seccomp = $seccomp[0]'
        read -r sc_rules sc_names sc_unique < <(jq -r \
                '[(.syscalls | length), ([.syscalls[].names[]] | length, (unique | length))] | @tsv' \
                "$tmp/seccomp.json")
        sc_src_rules=$(jq '.syscalls | length' "$profile")
fi
if want memfloor; then
        for name in "${names[@]}"; do
                # shellcheck disable=SC2016 # $root is jq's
                derive "$tmp/bundle-mem-$name" config.base.json '.root.path = $root'
        done
fi

# --- crun on a hybrid host ------------------------------------------------------
if [[ -n ${rt_bin[crun]:-} ]] && mountpoint -q "$UNIFIED"; then
        if ! crun --root "$tmp/state-crun-probe" run --bundle "$bundle" "$prefix-crun-probe" \
                </dev/null >/dev/null 2>"$tmp/crun-probe.err" &&
                grep -q "hybrid mode not supported" "$tmp/crun-probe.err"; then
                note "crun refuses this hybrid cgroup layout; it runs with $UNIFIED unmounted in a private mount namespace"
                wrap[crun]=hide
                cat "$UNIFIED/cgroup.controllers" >"$tmp/v2-controllers" 2>/dev/null || true
        fi
        child crun __cleanup "${rt_bin[crun]}" "$tmp/state-crun-probe"
        rm -rf "$tmp/state-crun-probe"
fi

# --- measure ----------------------------------------------------------------------
# run_child KEY NAME MODE ARGS...: 0 ok, else the reason is in na[KEY]
run_child() {
        local key=$1 name=$2 rc=0 msg
        shift 2
        child "$name" "$@" || rc=$?
        if ((rc == 0)); then
                unset "na[$key]"
                return 0
        fi
        ((rc == 3)) || exit "$rc" # not the runtime's failure: interrupted, or a bug here
        msg=$(grep -v '^[[:space:]]*$' "$tmp/$key.err" 2>/dev/null | head -n 3 | paste -sd ';' | sed 's/;/; /g' || true)
        na[$key]="n/a (${msg:-exit status $rc})"
        return 1
}

declare -A took # phase -> seconds
phase_start() { now_us; phase_t0=$REPLY; }
phase_end() { now_us; took[$1]=$(awk -v d=$((REPLY - phase_t0)) 'BEGIN { printf "%.0f", d / 1e6 }'); }

for sc in default limits seccomp; do
        want "$sc" || continue
        phase_start
        for name in "${names[@]}"; do
                if [[ -n ${na[$name]:-} ]]; then
                        na[$sc.$name]=${na[$name]}
                        continue
                fi
                note "$sc: measuring $name: $WARMUP warm-up + $N timed + $RSS_N RSS runs"
                run_child "$sc.$name" "$name" __measure "$tmp" "$sc.$name" runtime "${rt_bin[$name]}" \
                        "$tmp/state-$name-$sc" "${bundle_of[$sc]}" "$prefix-$name-$sc" && continue
                [[ $name != berth-runtime ]] || die "berth-runtime failed ($sc): ${na[$sc.$name]}"
                warn "$sc: $name: ${na[$sc.$name]}"
        done
        if [[ $sc == default ]]; then
                note "default: measuring the floor: unshare + chroot"
                run_child default.floor floor __measure "$tmp" default.floor floor none \
                        "$tmp/state-floor" "$bundle" "$prefix-floor" || warn "floor: ${na[default.floor]}"
        fi
        if [[ $sc == seccomp ]]; then
                # what berth-runtime's timed loop ran with: one cached program
                cached=$(find "$tmp/state-berth-runtime-seccomp/.seccomp-cache" -type f 2>/dev/null | wc -l)
                for name in "${names[@]}"; do
                        ((COLD_N > 0)) || break
                        if [[ -n ${na[$name]:-} ]]; then
                                na[cold.$name]=${na[$name]}
                                continue
                        fi
                        note "seccomp: $COLD_N runs of $name, each in a fresh state root"
                        run_child "cold.$name" "$name" __cold "$tmp" "cold.$name" "${rt_bin[$name]}" \
                                "$tmp/state-$name-cold" "${bundle_of[seccomp]}" "$prefix-$name-cold" ||
                                warn "seccomp, fresh state root: $name: ${na[cold.$name]}"
                done
        fi
        phase_end "$sc"
done

if want memfloor; then
        phase_start
        for name in "${names[@]}"; do
                if [[ -n ${na[$name]:-} ]]; then
                        na[memfloor.$name]=${na[$name]}
                        continue
                fi
                note "memfloor: searching $name's smallest memory limit ($MEM_LO KiB to $MEM_HI KiB, step $MEM_STEP KiB)"
                run_child "memfloor.$name" "$name" __memfloor "$tmp" "memfloor.$name" "${rt_bin[$name]}" \
                        "$tmp/state-$name-mem" "$tmp/bundle-mem-$name" "$prefix-$name-mem" ||
                        warn "memfloor: $name: ${na[memfloor.$name]}"
                if [[ -s $tmp/memfloor.$name.leftover ]]; then
                        warn "memfloor: failed runs of $name left cgroups behind (removed):"
                        cat "$tmp/memfloor.$name.leftover" >&2
                fi
        done
        phase_end memfloor
fi
now_us
bench_s=$(awk -v d=$((REPLY - bench_t0)) 'BEGIN { printf "%.0f", d / 1e6 }')
note "measured in ${bench_s} s"
read -r load_after _ </proc/loadavg

# --- report -----------------------------------------------------------------------
median_ms() { # FILE of microseconds -> median in ms
        sort -n "$1" | awk '{ v[NR] = $1 } END {
                if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
                printf "%.2f", m / 1000 }'
}
# stats KEY -> "ms_per_container median_ms rss_mb" (rss "n/a" when unmeasured)
stats() {
        local key=$1 total med rss
        total=$(cat "$tmp/$key.total")
        med=$(median_ms "$tmp/$key.runs")
        rss=$(awk 'BEGIN { m = -1 } /^[0-9]+$/ { if ($1 > m) m = $1 } END {
                if (m < 0) print "n/a"; else printf "%.1f", m / 1024 }' "$tmp/$key.rss")
        awk -v t="$total" -v n="$N" -v med="$med" -v rss="$rss" \
                'BEGIN { printf "%.2f %s %s\n", t / n / 1000, med, rss }'
}

declare -A ms med rss cold_med
for sc in default limits seccomp; do
        want "$sc" || continue
        for name in "${names[@]}" floor; do
                [[ $name != floor || $sc == default ]] || continue
                [[ -z ${na[$sc.$name]:-} ]] || continue
                read -r "ms[$sc.$name]" "med[$sc.$name]" "rss[$sc.$name]" < <(stats "$sc.$name")
        done
done
for name in "${names[@]}"; do
        [[ -f $tmp/cold.$name.runs && -z ${na[cold.$name]:-} ]] || continue
        cold_med[$name]=$(median_ms "$tmp/cold.$name.runs")
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }
delta() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.2f", a - b }'; }
cell() { printf '%s' "${1//|/\\|}"; } # text for a markdown table cell
kib() { # KiB -> "N KiB" or "N KiB (M MiB)"
        if (($1 >= 1024)); then
                awk -v k="$1" 'BEGIN { printf "%d KiB (%.2f MiB)", k, k / 1024 }'
        else
                printf '%d KiB' "$1"
        fi
}
version_of() { # NAME
        if [[ -n ${rt_bin[$1]:-} ]]; then first_line "${rt_bin[$1]}" --version; else echo "$1 not installed"; fi
}

# shellcheck disable=SC1091
os=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-}")
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
runs_note="$N timed runs each after $WARMUP warm-up run(s), a new container id per run.
ms / container = wall time of the whole loop / $N; median = median of the per-run wall times;
peak RSS = max of GNU time's %M over $RSS_N more runs (the runtime and the processes it reaped)."

# timing_table SCENARIO: the table for one scenario; after the default one,
# a column with the difference to the default run of the same runtime
timing_table() {
        local sc=$1 name label key extra=
        if [[ $sc == default ]]; then
                echo "| runtime | ms / container | ratio to berth-runtime | peak RSS (MB) | median ms |"
                echo "|---|---:|---:|---:|---:|"
        else
                [[ $sc == seccomp ]] && ((COLD_N > 0)) && extra=" first run in a fresh state root: median ms |"
                echo "| runtime | ms / container | ratio to berth-runtime | ms over plain /bin/true | peak RSS (MB) | median ms |$extra"
                echo "|---|---:|---:|---:|---:|---:|${extra:+---:|}"
        fi
        for name in "${names[@]}" floor; do
                [[ $name != floor || $sc == default ]] || continue
                key="$sc.$name"
                label=$name
                # shellcheck disable=SC2016 # markdown backticks
                [[ $name == floor ]] && label='floor: `unshare --pid --fork --mount --uts --ipc --net chroot ROOTFS /bin/true`'
                if [[ -n ${na[$key]:-} ]]; then
                        echo "| $label | $(cell "${na[$key]}") | | | |${extra:+ |}$([[ $sc == default ]] || echo ' |')"
                        continue
                fi
                printf '| %s | %s | %s |' "$label" "${ms[$key]}" "$(ratio "${ms[$key]}" "${ms[$sc.berth-runtime]}")"
                if [[ $sc != default ]]; then
                        if [[ -n ${ms[default.$name]:-} ]]; then
                                printf ' %s |' "$(delta "${ms[$key]}" "${ms[default.$name]}")"
                        else
                                printf ' n/a |'
                        fi
                fi
                printf ' %s | %s |' "${rss[$key]}" "${med[$key]}"
                if [[ -n $extra ]]; then
                        if [[ -n ${cold_med[$name]:-} ]]; then
                                printf ' %s |' "${cold_med[$name]}"
                        else
                                printf ' %s |' "$(cell "${na[cold.$name]:-n/a}")"
                        fi
                fi
                echo
        done
}

section_default() {
        echo "Machine: $(nproc) CPUs${cpu:+ ($cpu)}, Linux $(uname -r)${os:+, $os}; $(date -u '+%Y-%m-%d %H:%M UTC');"
        echo "1-minute load average $load_before before the bench and $load_after after it."
        echo
        echo "Versions: $(version_of berth-runtime); $(version_of crun); $(version_of runc)."
        echo
        timing_table default
        echo
        echo "$runs_note"
        echo "One busybox bundle for all; no linux.resources but the spec's device rule, no seccomp."
        if [[ ${wrap[crun]:-} == hide ]]; then
                echo "$(version_of crun) refuses this hybrid cgroup host (controllers on its v2 hierarchy:"
                echo "$(tr '\n' ' ' <"$tmp/v2-controllers" | sed 's/ *$//')), so it ran in a private mount namespace with $UNIFIED"
                echo "unmounted (an empty tmpfs in its place), i.e. as on a cgroup v1 host (in every section below too)."
        fi
        if [[ $("$berth" features 2>/dev/null | jq -r '.linux.cgroup.v1' 2>/dev/null) == false ]]; then
                echo "This berth-runtime does not manage cgroups yet; runc and crun create (and remove) a cgroup"
                echo "per controller for every container, which is part of their time."
        fi
        echo "This section and the three after it come from one run of \`bench/runtime.sh\`, which took"
        echo "$bench_s s in all (default ${took[default]:-?} s, limits ${took[limits]:-?} s, seccomp ${took[seccomp]:-?} s,"
        echo "memory floor ${took[memfloor]:-?} s)."
}

section_limits() {
        echo "The default bundle plus \`linux.resources\`: memory limit 256 MiB, pids limit 128,"
        echo "cpu shares 512, quota 50000 µs per period 100000 µs. Same run, machine and versions as above."
        echo
        timing_table limits
        echo
        echo "$runs_note"
        echo "ms over plain /bin/true = this ms / container minus the same runtime's in the section above."
}

section_seccomp() {
        echo "The default bundle plus a \`linux.seccomp\` made from podman's default profile"
        echo "(\`$profile\`, $(wc -c <"$profile") bytes, $sc_src_rules rules), the same size class as Docker's"
        echo "default, converted by \`bench/seccomp-to-oci.jq\` as Docker and podman do for a container:"
        echo "rules kept when their includes/excludes (caps, arches) fit this container's bounding set"
        echo "($(jq -r '.process.capabilities.bounding // [] | join(", ")' "$bundle/config.json")) on $go_arch."
        echo "Result: defaultAction $(jq -r '.defaultAction' "$tmp/seccomp.json") (errno $(jq -r '.defaultErrnoRet // "default"' "$tmp/seccomp.json")),"
        echo "architectures $(jq -r '.architectures | join(", ")' "$tmp/seccomp.json"), $sc_rules rules naming $sc_names syscalls ($sc_unique distinct)."
        echo "Same run, machine and versions as above."
        echo
        timing_table seccomp
        echo
        echo "$runs_note"
        echo "ms over plain /bin/true = this ms / container minus the same runtime's in the first section."
        echo "berth-runtime caches compiled seccomp programs in STATE_ROOT/.seccomp-cache: only the first run"
        echo "in a state root compiles the profile, and the timed loop followed $WARMUP warm-up run(s) in the same"
        echo "state root (which held $cached cached program(s) afterwards), so the first columns are berth-runtime's"
        echo "cached case. crun and runc compile the profile with libseccomp in every run. The last column is"
        echo "the uncached case: $COLD_N runs, each the first in a new, empty state root (for crun and runc that"
        echo "changes nothing but the state root)."
}

section_memfloor() {
        local name floor fail frc fmsg how ran left
        local -A fl
        for name in "${names[@]}"; do
                [[ -z ${na[memfloor.$name]:-} ]] || continue
                read -r floor fail frc fmsg <"$tmp/memfloor.$name.floor"
                fl[$name]=$floor
        done
        echo "The default bundle with \`linux.resources.memory\` limit = swap (memory+swap) = L, so no swap"
        echo "is used; L is the smallest multiple of $MEM_STEP KiB between $MEM_LO KiB and $((MEM_HI / 1024)) MiB under which"
        echo "$MEM_CONFIRM runs in a row of \`run\` of /bin/true exit 0, found by binary search (a limit that"
        echo "fails once counts as too small). Every run is followed by \`delete --force\`; a failed run's"
        echo "cgroups, if any were left, are removed and noted. Same run, machine and versions as above."
        echo
        echo "| runtime | smallest limit that starts /bin/true | ratio to berth-runtime | largest limit that failed | how it failed there | runs |"
        echo "|---|---:|---:|---:|---|---:|"
        for name in "${names[@]}"; do
                if [[ -n ${na[memfloor.$name]:-} ]]; then
                        echo "| $name | $(cell "${na[memfloor.$name]}") | | | | |"
                        continue
                fi
                read -r floor fail frc fmsg <"$tmp/memfloor.$name.floor"
                ran=$(wc -l <"$tmp/memfloor.$name.log")
                case $frc in
                0) how= ;;
                137) how="exit status 137 (the container was killed by SIGKILL)" ;;
                124) how="timed out after $MEM_TIMEOUT s" ;;
                *) how="exit status $frc" ;;
                esac
                # runc logs as logrus: time="..." level=error msg="..."
                if [[ $fmsg == *'msg="'* ]]; then
                        fmsg=${fmsg#*msg=\"}
                        fmsg=${fmsg%\"}
                fi
                ((${#fmsg} <= 240)) || fmsg="${fmsg:0:237}..."
                [[ -z $fmsg ]] || how="$how: $fmsg"
                if ((floor == 0)); then
                        echo "| $name | > $((MEM_HI / 1024)) MiB | | $(kib "$fail") | $(cell "$how") | $ran |"
                elif ((fail == 0)); then
                        echo "| $name | ≤ $(kib "$floor") | | none | | $ran |"
                else
                        printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$(kib "$floor")" \
                                "$( [[ -n ${fl[berth-runtime]:-} && ${fl[berth-runtime]} != 0 ]] && ratio "$floor" "${fl[berth-runtime]}")" \
                                "$(kib "$fail")" "$(cell "$how")" "$ran"
                fi
        done
        left=$(cat "$tmp"/memfloor.*.leftover 2>/dev/null | wc -l)
        echo
        if ((left > 0)); then
                echo "Failed runs left $left cgroup directories behind, removed by the bench:"
                for name in "${names[@]}"; do
                        [[ -s $tmp/memfloor.$name.leftover ]] || continue
                        echo "$name $(wc -l <"$tmp/memfloor.$name.leftover")."
                done
        else
                echo "No run left a cgroup behind."
        fi
        echo "runs = runs of \`run\` in the search, failed ones included."
}

# heading|regex|function: the regex finds the section on a rewrite, whatever N
# was; no regex may match another section's heading
sections=(
        "## Runtime: $N sequential \`run\` of /bin/true|^## Runtime: [0-9]+ sequential \`run\` of /bin/true|section_default|default"
        "## Runtime with cgroup limits: $N sequential \`run\` of /bin/true|^## Runtime with cgroup limits: |section_limits|limits"
        "## Runtime with a seccomp profile: $N sequential \`run\` of /bin/true|^## Runtime with a seccomp profile: |section_seccomp|seccomp"
        "## Runtime: smallest memory limit under which \`run\` of /bin/true starts|^## Runtime: smallest memory limit |section_memfloor|memfloor"
)
for s in "${sections[@]}"; do
        IFS='|' read -r heading regex fn sc <<<"$s"
        want "$sc" || continue
        { printf '%s\n\n' "$heading"; "$fn"; } >"$tmp/section-$sc.md"
        echo
        cat "$tmp/section-$sc.md"
done

# --- docs/benchmarks.md -------------------------------------------------------------
if [[ $write_docs == 1 ]]; then
        if [[ ! -f $docs ]]; then
                cat >"$docs" <<'INTRO'
# Benchmarks

Numbers from the benchmarks in `bench/`. To reproduce them on your machine
(as root), run `make bench`, which builds berth and runs `bench/runtime.sh`;
`bench/runtime.sh BUILD_DIR --write-docs` rewrites the sections below.
INTRO
        fi
        for s in "${sections[@]}"; do
                IFS='|' read -r heading regex fn sc <<<"$s"
                # Replace the section whose heading matches REGEX (up to the
                # next "## " heading), or append it.
                SEC="$tmp/section-$sc.md" RE=$regex awk '
                        function emit(  line) {
                                while ((getline line < ENVIRON["SEC"]) > 0) print line
                                close(ENVIRON["SEC"]); done = 1
                        }
                        $0 ~ ENVIRON["RE"] { if (!done) { emit(); print "" } skip = 1; next }
                        skip && /^## / { skip = 0 }
                        skip { next }
                        { print }
                        END { if (!done) { print ""; emit() } }
                ' "$docs" >"$docs.new"
                # no doubled blank lines where sections meet
                cat -s "$docs.new" >"$docs"
                rm -f "$docs.new"
        done
        note "wrote the tables to $docs"
fi
