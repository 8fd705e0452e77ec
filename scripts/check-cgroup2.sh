#!/bin/bash
# `make check-cgroup2`: runs bats suites inside a small qemu VM that boots
# Debian's kernel on pure cgroup v2, because this host is hybrid (v1 with a v2
# hierarchy holding only hugetlb) and most users are on pure v2. The VM boots
# twice: once with a plain init script as PID 1 for the cgroup suites, once
# with systemd as PID 1 for the systemd cgroup driver's suite (this host
# runs no systemd).
#
#   scripts/check-cgroup2.sh [BUILD_DIR]        (default: build)
#
# stdout is one plain TAP stream: the `bats --tap` output of each boot, the
# second's tests numbered on from the first's, under one plan. A caller can
# count `ok`/`not ok` lines; everything else goes to stderr. A boot that did
# not get through its tests (timeout, crash, no markers) adds a `not ok`
# line saying so and names its console log. The exit status is 0 when every
# boot's bats passed, else the first failing boot's bats status (1 for a
# boot that did not finish).
#
# Environment:
#   CGROUP2_INIT     which boots: "plain", "systemd", or both (default "all")
#   CGROUP2_TESTS    bats files for the plain boot, paths relative to the
#                    source tree (default: tests/vm/*.bats, plus
#                    tests/integration/cgroups.bats when it exists)
#   CGROUP2_SYSTEMD_TESTS  bats files for the systemd boot (default:
#                    tests/integration/systemd.bats)
#   CGROUP2_BATS_ARGS  extra bats arguments, e.g. "--filter memory"
#   CGROUP2_TIMEOUT  seconds for the whole VM run (1200)
#   CGROUP2_MEM      VM memory in MiB (1024)
#   CGROUP2_CPUS     VM cpus (2)
#   CGROUP2_MODULES  kernel modules to load in the VM, with what they depend
#                    on ("virtio_pci virtio_blk loop": the VM's disk, /dev/vda,
#                    for io.* tests, and loop devices)
#   CGROUP2_SCOPE    run the plain boot's tests from this non-root cgroup
#                    (e.g. /user.slice/session-1.scope) instead of the root
#   CGROUP2_CACHE    where the Debian kernel is kept (/var/cache/berth-vm
#                    when writable, else ~/.cache/berth-vm)
#   CGROUP2_KERNEL   boot this kernel image instead (no modules then)
#   CGROUP2_VERBOSE  1: copy the VM console to stderr as it runs
# The plain boot's logs and image are in BUILD_DIR/vm, the systemd boot's in
# BUILD_DIR/vm/systemd (console.log, tap.log, qemu.log, initramfs.cpio).
#   CGROUP2_APPEND   more kernel command line (e.g. "loglevel=7")
#   CGROUP2_QEMU_ARGS  more qemu arguments, split at spaces
# BERTH_TEST_TIMEOUT and BATS_TEST_TIMEOUT pass into the VM when set.
#
# The VM has no network device: nothing leaves it. KVM is not used (it hangs
# on this machine), so the CPU is emulated (TCG) and slower than the host's.
set -euo pipefail

cd "$(dirname "$0")/.."
SRC=$PWD
BUILD=${1:-build}
BUILD=${BUILD%/}
VM_DIR=$BUILD/vm

TIMEOUT=${CGROUP2_TIMEOUT:-1200}
MEM=${CGROUP2_MEM:-1024}
CPUS=${CGROUP2_CPUS:-2}
MODULES=${CGROUP2_MODULES-virtio_pci virtio_blk loop}
if [ -z "${CGROUP2_CACHE:-}" ]; then
        if mkdir -p /var/cache/berth-vm 2>/dev/null && [ -w /var/cache/berth-vm ]; then
                CGROUP2_CACHE=/var/cache/berth-vm
        else
                CGROUP2_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/berth-vm
        fi
fi

say() { printf 'check-cgroup2: %s\n' "$*" >&2; }
die() {
        say "$*"
        exit 1
}

STAGE='' QEMU_PID='' TAIL_PID=''

# stop_qemu: TERM, then KILL if it has not gone within 5 seconds.
stop_qemu() {
        kill "$QEMU_PID" 2>/dev/null || return 0
        for _ in $(seq 50); do
                kill -0 "$QEMU_PID" 2>/dev/null || break
                sleep 0.1
        done
        kill -KILL "$QEMU_PID" 2>/dev/null || true
}

cleanup() {
        # A signal while qemu runs must not leave it behind.
        if [ -n "$QEMU_PID" ]; then
                stop_qemu
                wait "$QEMU_PID" 2>/dev/null
        fi
        [ -n "$TAIL_PID" ] && kill "$TAIL_PID" 2>/dev/null && wait "$TAIL_PID" 2>/dev/null
        [ -n "$STAGE" ] && rm -rf "$STAGE"
        return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- prerequisites -------------------------------------------------------------

check_tools() {
        local t missing=()
        for t in qemu-system-x86_64 busybox bats jq dpkg-deb apt-get flock; do
                command -v "$t" >/dev/null || missing+=("$t")
        done
        [ ${#missing[@]} -eq 0 ] ||
                die "missing: ${missing[*]} (run scripts/install-deps.sh all as root)"
        [ -x "$BUILD/src/cli/berth-runtime" ] ||
                die "no $BUILD/src/cli/berth-runtime: build first (make build BUILD=$BUILD)"
        if [ -n "${BOOT_DIR[systemd]:-}" ]; then
                if [ ! -x /lib/systemd/systemd ] || ! type -P systemctl >/dev/null; then
                        die "the systemd boot copies this host's systemd, and there is none (apt-get install systemd, or CGROUP2_INIT=plain)"
                fi
                [ -x "$BUILD/src/cli/berth-cgroup-systemd" ] ||
                        die "no $BUILD/src/cli/berth-cgroup-systemd: build first (it needs libsystemd-dev)"
        fi
}

# ---- the kernel -----------------------------------------------------------------

# "PACKAGE VERSION": the versioned package that apt's lists (no network)
# make the candidate behind linux-image-amd64, which pins it exactly.
kernel_package() {
        apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
                sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*\) (= \([^)]*\)).*/\1 \2/p' | head -1
}

# fetch_kernel PKG VER DEST: download and unpack the package (never install
# it: its maintainer scripts would touch /boot and the host's initramfs),
# keeping vmlinuz, config and the modules tree. DEST appears only when whole.
fetch_kernel() {
        local pkg=$1 ver=$2 dest=$3 dl deb kdir
        dl=$(mktemp -d "$CGROUP2_CACHE/dl.XXXXXX")
        # apt drops to _apt for downloads and warns when that user cannot
        # write the directory.
        [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1 && chown _apt "$dl"
        say "downloading $pkg $ver"
        (cd "$dl" && apt-get download -qq "$pkg=$ver" >&2) || {
                rm -rf "$dl"
                return 1
        }
        deb=$(echo "$dl"/*.deb)
        mkdir "$dl/x" "$dl/entry"
        dpkg-deb -x "$deb" "$dl/x"
        mv "$dl"/x/boot/vmlinuz-* "$dl/entry/vmlinuz"
        mv "$dl"/x/boot/config-* "$dl/entry/config"
        kdir=$(echo "$dl"/x/lib/modules/* "$dl"/x/usr/lib/modules/*)
        kdir=${kdir%% *}
        [ -d "$kdir" ] || kdir=$(find "$dl/x" -maxdepth 4 -type d -path '*/lib/modules/*' | head -1)
        [ -d "$kdir" ] && mv "$kdir" "$dl/entry/modules" && basename "$kdir" >"$dl/entry/release"
        mv "$dl/entry" "$dest"
        rm -rf "$dl"
}

# extract_vmlinux DIR: DIR/vmlinux, the ELF kernel inside DIR/vmlinuz. qemu
# boots it through its PVH entry point, skipping the real-mode setup and the
# decompression in the emulated CPU: about 4 of the 8 seconds a bare boot
# takes. Leaves nothing (and the bzImage is used) when that is not possible.
extract_vmlinux() {
        local dir=$1 magic tool off
        grep -q '^CONFIG_PVH=y' "$dir/config" 2>/dev/null || return 0
        # Stream magics (bash strings end at a NUL, so xz's is one byte short).
        for magic in $'\xfd7zXZ:xz -dcq --single-stream' $'\x28\xb5\x2f\xfd:zstd -dcq' $'\x1f\x8b\x08:gzip -dcq'; do
                tool=${magic#*:}
                type -P "${tool%% *}" >/dev/null || continue
                off=$(LC_ALL=C grep -abo -m1 "${magic%%:*}" "$dir/vmlinuz" | head -1 | cut -d: -f1) || true
                [ -n "$off" ] || continue
                # Trailing data after the stream makes some tools complain.
                tail -c +"$((off + 1))" "$dir/vmlinuz" | $tool >"$dir/vmlinux.tmp" 2>/dev/null || true
                if [ "$(head -c 4 "$dir/vmlinux.tmp" | od -An -c | tr -d ' ')" = 177ELF ]; then
                        mv "$dir/vmlinux.tmp" "$dir/vmlinux"
                        return 0
                fi
        done
        rm -f "$dir/vmlinux.tmp"
}

# Sets KERNEL, KERNEL_DIR (modules, config; empty with CGROUP2_KERNEL) and
# KERNEL_NAME. Cached per package version: a second run downloads nothing.
resolve_kernel() {
        if [ -n "${CGROUP2_KERNEL:-}" ]; then
                KERNEL=$CGROUP2_KERNEL KERNEL_DIR='' KERNEL_NAME=$CGROUP2_KERNEL
                [ -f "$KERNEL" ] || die "CGROUP2_KERNEL=$KERNEL does not exist"
                return 0
        fi
        mkdir -p "$CGROUP2_CACHE"
        exec 8>"$CGROUP2_CACHE/.lock"
        flock 8
        local pkg='' ver='' key
        read -r pkg ver <<<"$(kernel_package)" || true
        if [ -z "$ver" ] && [ "$(id -u)" = 0 ] && ! compgen -G "$CGROUP2_CACHE/linux-image-*/vmlinuz" >/dev/null; then
                say "apt knows no linux-image-amd64: apt-get update"
                apt-get update -qq >&2
                read -r pkg ver <<<"$(kernel_package)" || true
        fi
        if [ -n "$ver" ]; then
                key=${pkg}_${ver//:/%3a}
                if [ ! -f "$CGROUP2_CACHE/$key/vmlinuz" ]; then
                        # Stale lists name a version the mirror dropped.
                        if ! fetch_kernel "$pkg" "$ver" "$CGROUP2_CACHE/$key" && [ "$(id -u)" = 0 ]; then
                                say "download failed: apt-get update and retry"
                                apt-get update -qq >&2
                                read -r pkg ver <<<"$(kernel_package)" || true
                                [ -n "$ver" ] || die "apt knows no linux-image-amd64 after apt-get update"
                                key=${pkg}_${ver//:/%3a}
                                [ -f "$CGROUP2_CACHE/$key/vmlinuz" ] ||
                                        fetch_kernel "$pkg" "$ver" "$CGROUP2_CACHE/$key" ||
                                        die "could not download $pkg $ver"
                        fi
                fi
        else
                # No apt lists (or not root to update them): newest cached one.
                key=$(find "$CGROUP2_CACHE" -mindepth 2 -maxdepth 2 -name vmlinuz -path '*/linux-image-*' \
                        -printf '%T@ %h\n' | sort -rn | head -1)
                key=${key##*/}
                [ -n "$key" ] || die "apt knows no linux-image-amd64 and $CGROUP2_CACHE is empty (apt-get update as root)"
        fi
        KERNEL_DIR=$CGROUP2_CACHE/$key
        [ -f "$KERNEL_DIR/vmlinux" ] || [ -f "$KERNEL_DIR/no-vmlinux" ] || {
                extract_vmlinux "$KERNEL_DIR"
                [ -f "$KERNEL_DIR/vmlinux" ] || : >"$KERNEL_DIR/no-vmlinux"
        }
        flock -u 8
        KERNEL=$KERNEL_DIR/vmlinuz
        [ -f "$KERNEL_DIR/vmlinux" ] && KERNEL=$KERNEL_DIR/vmlinux
        KERNEL_NAME=$key
}

# ---- the initramfs ------------------------------------------------------------

declare -A COPIED=() MADE_DIRS=()

# install_file SRC DEST: SRC's content (symlinks followed) at DEST in the
# image, merged-/usr style.
install_file() {
        local src=$1 dest=$2
        case $dest in
        /bin/* | /sbin/* | /lib/* | /lib64/*) dest=/usr$dest ;;
        esac
        local dir=${dest%/*}
        [ -n "${COPIED[$dest]:-}" ] && return 0
        [ -n "${MADE_DIRS[$dir/]:-}" ] || {
                mkdir -p "$STAGE$dir"
                MADE_DIRS[$dir/]=1
        }
        cp -L --remove-destination "$src" "$STAGE$dest"
        COPIED[$dest]=1
}

# Host executables whose shared libraries go into the image (add_libs).
NEED_LIBS=()

# add_exe SRC DEST: an executable; its libraries follow in add_libs.
add_exe() {
        install_file "$1" "$2"
        NEED_LIBS+=("$1")
}

# add_libs: the libraries and loader of everything add_exe added, at their
# host paths. What ldd does, from the loader directly: ldd is a script that
# takes a second for the hundred-odd binaries. --list on a static binary
# would run it, so --verify (dynamic?) comes first.
add_libs() {
        local loader f lib
        loader=$(ldd "$BASH" | awk '$1 ~ /^\// && /ld-linux/ { print $1; exit }')
        [ -x "$loader" ] || die "cannot find the dynamic loader of $BASH"
        for lib in $(for f in "${NEED_LIBS[@]}"; do
                "$loader" --verify "$f" >/dev/null 2>&1 && "$loader" --list "$f"
        done | awk '/=> \// { print $3 } /^\t\// { print $1 }' | sort -u); do
                install_file "$lib" "$lib"
        done
        NEED_LIBS=()
}

# add_program NAME [DEST]: a host program at the same path in the image (or
# DEST); a program the host lacks is left to busybox.
add_program() {
        local path
        path=$(type -P "$1") || {
                say "note: no $1 on the host; the VM uses busybox's"
                return 0
        }
        add_exe "$path" "${2:-$path}"
}

# The real tools over busybox's applets where the tests and bats rely on GNU
# behaviour (timeout -k, stat -c, date +%N, ps -o ... -p, find -exec +).
REAL_TOOLS=(bash jq find xargs grep sed mawk diff cmp tar gzip
        flock findmnt mount umount nsenter unshare setsid losetup prlimit taskset
        chrt ionice setpriv lsns script ps pgrep pkill sysctl kill)

# Kernel module name (dashes as underscores) -> path under the modules tree.
declare -A MODULE_PATHS=()
index_modules() {
        local f b
        while IFS= read -r f; do
                b=${f##*/}
                b=${b%%.ko*}
                MODULE_PATHS[${b//-/_}]=$f
        done < <(cd "$KERNEL_DIR/modules" && find kernel -name '*.ko*')
}

# module_content PATH: the module file, decompressed for busybox's insmod.
module_content() {
        case $1 in
        *.ko.xz) xz -dc "$1" ;;
        *.ko.zst) zstd -qdc "$1" ;;
        *.ko.gz) gzip -dc "$1" ;;
        *) cat "$1" ;;
        esac
}

# add_module_closure NAME: the module and, first, what it depends on. The
# package ships no modules.dep (depmod runs in its postinst, and kmod need
# not be installed here), so dependencies come from each module's modinfo.
add_module_closure() {
        local name=${1//-/_} path dest deps dep
        path=${MODULE_PATHS[$name]:-}
        if [ -z "$path" ]; then
                grep -q "/${name}.ko" "$KERNEL_DIR/modules/modules.builtin" 2>/dev/null && return 0
                die "kernel module $1 is not in $KERNEL_NAME"
        fi
        dest=/usr/lib/modules/$(cat "$KERNEL_DIR/release")/${path%%.ko*}.ko
        [ -n "${COPIED[$dest]:-}" ] && return 0
        COPIED[$dest]=1
        deps=$(module_content "$KERNEL_DIR/modules/$path" | tr '\0' '\n' | sed -n 's/^depends=//p')
        deps=${deps%%$'\n'*}
        for dep in ${deps//,/ }; do
                add_module_closure "$dep"
        done
        mkdir -p "$STAGE$(dirname "$dest")"
        module_content "$KERNEL_DIR/modules/$path" >"$STAGE$dest"
        echo "$dest" >>"$STAGE/etc/berth-vm/modules"
}

# build_stage: what both boots share, in $STAGE: busybox, the real tools,
# bats, the runtime under test, the tests and kernel modules.
build_stage() {
        local d p t rel
        STAGE=$(mktemp -d)
        mkdir -p "$STAGE"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc/berth-vm,proc,sys,dev,tmp,run,root,src}
        ln -s usr/bin "$STAGE/bin"
        ln -s usr/sbin "$STAGE/sbin"
        ln -s usr/lib "$STAGE/lib"
        ln -s usr/lib64 "$STAGE/lib64"
        chmod 1777 "$STAGE/tmp"

        # Debian's busybox-static is the /bin/busybox that
        # scripts/mk-busybox-rootfs.sh copies into container rootfses.
        install_file /bin/busybox /usr/bin/busybox
        # Links to /usr/bin/busybox, which is where the image has it.
        busybox --install -s "$STAGE/usr/bin"

        for p in $(dpkg -L coreutils | grep -E '^/(usr/)?s?bin/'); do
                [ -f "$p" ] && [ ! -L "$p" ] && add_exe "$p" "$p"
        done
        for t in "${REAL_TOOLS[@]}"; do
                add_program "$t"
        done
        [ -e "$STAGE/usr/bin/mawk" ] && ln -sf mawk "$STAGE/usr/bin/awk"

        # Debian's bats: /usr/bin/bats finds its libexec/ and lib/ beside it.
        for p in $(dpkg -L bats | grep -v '^/usr/share/'); do
                [ -f "$p" ] && install_file "$p" "$p"
        done

        # Reference runtimes for differential tests, when the host has them.
        type -P runc >/dev/null && add_program runc /usr/sbin/runc && ln -sf ../sbin/runc "$STAGE/usr/bin/runc"
        type -P crun >/dev/null && add_program crun /usr/bin/crun

        # The project: binaries where helpers.bash looks by default, tests and
        # scripts in the source tree's layout (helpers.bash finds the tree as
        # $BATS_TEST_DIRNAME/../..).
        add_exe "$BUILD/src/cli/berth-runtime" /src/build/src/cli/berth-runtime
        if [ -x "$BUILD/tests/helper/berth-testhelper" ]; then
                add_exe "$BUILD/tests/helper/berth-testhelper" /src/build/tests/helper/berth-testhelper
        else
                say "note: no $BUILD/tests/helper/berth-testhelper: tests that need it skip"
        fi
        for d in scripts tests/integration tests/vm; do
                mkdir -p "$STAGE/src/$d"
                cp -a "$d/." "$STAGE/src/$d/"
        done
        for t in "${TESTS[@]}" "${SYSTEMD_TESTS[@]}"; do
                rel=${t#"$SRC"/}
                mkdir -p "$STAGE/src/$(dirname "$rel")"
                cp "$t" "$STAGE/src/$rel"
        done

        add_libs
        install_file scripts/vm/init /init
        chmod 755 "$STAGE/init"
        cat >"$STAGE/etc/passwd" <<'EOP'
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOP
        cat >"$STAGE/etc/group" <<'EOP'
root:x:0:
daemon:x:1:
tty:x:5:
users:x:100:
nogroup:x:65534:
EOP
        : >"$STAGE/etc/berth-vm/modules"
        if [ -n "$MODULES" ] && { [ -z "$KERNEL_DIR" ] || [ ! -d "$KERNEL_DIR/modules/kernel" ]; }; then
                say "note: $KERNEL_NAME comes without modules; not loading $MODULES"
        elif [ -n "$MODULES" ]; then
                index_modules
                for p in $MODULES; do
                        add_module_closure "$p"
                done
        fi
}

# add_systemd: this host's systemd as the image's PID 1 (scripts/vm/init
# execs it when the env says BERTH_VM_INIT=systemd), with two units of our
# own and nothing else: no udev, journald, getty, networkd or D-Bus daemon.
# berth-cgroup-systemd reaches systemd on /run/systemd/private.
add_systemd() {
        local u=$STAGE/etc/systemd/system
        add_exe /lib/systemd/systemd /lib/systemd/systemd
        add_program systemctl
        add_exe "$BUILD/src/cli/berth-cgroup-systemd" /src/build/src/cli/berth-cgroup-systemd
        add_libs
        mkdir -p "$u"
        install_file /etc/os-release /etc/os-release
        echo berth-vm >"$STAGE/etc/hostname"
        # Else systemd reports itself tainted (var-run-bad).
        mkdir -p "$STAGE/var"
        ln -s ../run "$STAGE/var/run"
        # A machine id of its own: a missing or empty one is systemd's "first
        # boot", which applies presets to every unit file it finds.
        od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$STAGE/etc/machine-id"
        echo >>"$STAGE/etc/machine-id"
        # No journald: systemd and the units log to the console (ttyS0).
        cat >"$STAGE/etc/systemd/system.conf" <<'EOU'
[Manager]
LogTarget=console
ShowStatus=no
DefaultStandardOutput=tty
DefaultStandardError=tty
DefaultTimeoutStopSec=10s
EOU
        cat >"$u/berth-vm.target" <<'EOU'
[Unit]
Description=berth VM test run
DefaultDependencies=no
Wants=berth-vm-tests.service
AllowIsolate=yes
EOU
        # The init script powers off itself (poweroff -f) once the TAP is
        # out; the actions are for when it dies before that.
        cat >"$u/berth-vm-tests.service" <<'EOU'
[Unit]
Description=bats in the berth VM (scripts/vm/init --systemd-tests)
DefaultDependencies=no
SuccessAction=poweroff-immediate
FailureAction=poweroff-immediate

[Service]
Type=simple
ExecStart=/init --systemd-tests
StandardInput=null
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console
EOU
        ln -s berth-vm.target "$u/default.target"
}

# pack_initramfs FILE: $STAGE as a cpio archive. Not compressed: qemu loads
# the file as it is, and unpacking ~35 MB of gzip in the emulated CPU costs
# a second per boot.
pack_initramfs() {
        (cd "$STAGE" && find . -print0 | busybox cpio -o -0 -H newc -R 0:0 2>/dev/null) >"$1.tmp"
        mv "$1.tmp" "$1"
}

# build_initramfs: one image per boot; the systemd one is the plain one
# plus systemd and the driver's helper.
build_initramfs() {
        build_stage
        if [ -n "${BOOT_DIR[plain]:-}" ]; then
                write_vm_env plain "${TESTS[@]}" >"$STAGE/etc/berth-vm/env"
                pack_initramfs "${BOOT_DIR[plain]}/initramfs.cpio"
        fi
        if [ -n "${BOOT_DIR[systemd]:-}" ]; then
                add_systemd
                write_vm_env systemd "${SYSTEMD_TESTS[@]}" >"$STAGE/etc/berth-vm/env"
                pack_initramfs "${BOOT_DIR[systemd]}/initramfs.cpio"
        fi
        rm -rf "$STAGE"
        STAGE=
}

# write_vm_env BOOT TEST...: what /init sources: the tests, bats' arguments
# and the runtime under test.
write_vm_env() {
        local boot=$1 t rel tests=() args=() v
        shift
        for t in "$@"; do
                rel=${t#"$SRC"/}
                tests+=("$rel")
        done
        read -r -a args <<<"${CGROUP2_BATS_ARGS:-}"
        echo "# written by scripts/check-cgroup2.sh"
        # Read by stage 1 with grep -x: keep it a line of its own.
        echo "BERTH_VM_INIT=$boot"
        printf 'BERTH_VM_TESTS=(%s)\n' "$(printf '%q ' "${tests[@]}")"
        printf 'BERTH_VM_BATS_ARGS=(%s)\n' "$(printf '%q ' "${args[@]}")"
        # Leave the VM a minute to boot and to print its END marker.
        printf 'BERTH_VM_TIMEOUT=%q\n' "$((TIMEOUT > 120 ? TIMEOUT - 60 : TIMEOUT * 3 / 4))"
        if [ "$boot" = plain ]; then
                printf 'BERTH_VM_SCOPE=%q\n' "${CGROUP2_SCOPE:-}"
        else
                echo "BERTH_CGROUP_SYSTEMD=/src/build/src/cli/berth-cgroup-systemd"
        fi
        echo "BERTH_RUNTIME=/src/build/src/cli/berth-runtime"
        echo "BERTH_TESTHELPER=/src/build/tests/helper/berth-testhelper"
        echo "REF_RUNTIME=/usr/sbin/runc"
        for v in BERTH_TEST_TIMEOUT BATS_TEST_TIMEOUT; do
                [ -n "${!v:-}" ] && printf 'export %s=%q\n' "$v" "${!v}"
        done
        return 0
}

# ---- the tests to run -----------------------------------------------------------

# Sets BOOTS (in order) and BOOT_DIR: each boot's image and logs.
declare -A BOOT_DIR=()
select_boots() {
        case ${CGROUP2_INIT:-all} in
        all) BOOTS=(plain systemd) ;;
        plain | systemd) BOOTS=("$CGROUP2_INIT") ;;
        *) die "CGROUP2_INIT=$CGROUP2_INIT: expected plain, systemd or all" ;;
        esac
        BOOT_DIR=([plain]=$VM_DIR [systemd]=$VM_DIR/systemd)
        [[ " ${BOOTS[*]} " == *" plain "* ]] || unset 'BOOT_DIR[plain]'
        [[ " ${BOOTS[*]} " == *" systemd "* ]] || unset 'BOOT_DIR[systemd]'
        return 0
}

# resolve_tests VAR FILE...: the files as absolute paths in VAR, each checked.
resolve_tests() {
        local -n list=$1
        local t
        shift
        list=("$@")
        for t in "${!list[@]}"; do
                [ -f "${list[t]}" ] || die "no test file ${list[t]}"
                list[t]=$(realpath "${list[t]}")
                case ${list[t]} in
                "$SRC"/*) ;;
                *) die "${list[t]} is outside the source tree" ;;
                esac
        done
}

select_tests() {
        local files=()
        TESTS=() SYSTEMD_TESTS=()
        if [ -n "${BOOT_DIR[plain]:-}" ]; then
                if [ -n "${CGROUP2_TESTS:-}" ]; then
                        read -r -a files <<<"$CGROUP2_TESTS"
                else
                        files=(tests/vm/*.bats)
                        [ -f tests/integration/cgroups.bats ] && files+=(tests/integration/cgroups.bats)
                fi
                resolve_tests TESTS "${files[@]}"
        fi
        if [ -n "${BOOT_DIR[systemd]:-}" ]; then
                read -r -a files <<<"${CGROUP2_SYSTEMD_TESTS:-tests/integration/systemd.bats}"
                resolve_tests SYSTEMD_TESTS "${files[@]}"
        fi
        return 0
}

# ---- boot -----------------------------------------------------------------------

# run_vm DIR: boots DIR/initramfs.cpio; the console goes to DIR/console.log,
# the TAP port to DIR/tap.log.
run_vm() {
        local dir=$1
        : >"$dir/console.log"
        : >"$dir/tap.log"
        if [ "${CGROUP2_VERBOSE:-0}" = 1 ]; then
                tail -n +1 -f "$dir/console.log" >&2 &
                TAIL_PID=$!
        fi
        # -nodefaults: no NIC (no traffic can leave), no VGA, no CD-ROM.
        # ttyS0 is the console, ttyS1 the TAP stream (see scripts/vm/init).
        # The one disk, /dev/vda, is a real block device for the io
        # controller's tests; qemu's null driver needs no file behind it
        # (reads return zeros, writes vanish).
        # cgroup_no_v1=all keeps every controller on the unified hierarchy
        # (systemd.unified_cgroup_hierarchy=1 says the same to systemd, in
        # case its build defaults to another layout); panic=-1 plus
        # -no-reboot turns a panic into qemu exiting.
        local extra=()
        read -r -a extra <<<"${CGROUP2_QEMU_ARGS:-}"
        qemu-system-x86_64 \
                -accel tcg -machine pc -m "$MEM" -smp "$CPUS" "${extra[@]}" \
                -nodefaults -no-user-config -display none -nic none -no-reboot \
                -serial "file:$dir/console.log" -serial "file:$dir/tap.log" \
                -drive if=virtio,driver=null-co,size=256M,read-zeroes=on \
                -kernel "$KERNEL" -initrd "$dir/initramfs.cpio" \
                -append "console=ttyS0 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 quiet panic=-1 rdinit=/init ${CGROUP2_APPEND:-}" \
                </dev/null >"$dir/qemu.log" 2>&1 8>&- 9>&- &
        QEMU_PID=$!
        # The deadline is kept here rather than by timeout(1), so that the
        # pid to stop on a signal is qemu's own.
        local rc=0 qemu_rc=0 deadline=$((SECONDS + TIMEOUT))
        while kill -0 "$QEMU_PID" 2>/dev/null; do
                if [ "$SECONDS" -ge "$deadline" ]; then
                        stop_qemu
                        rc=124
                        break
                fi
                sleep 1
        done
        wait "$QEMU_PID" || qemu_rc=$?
        [ "$rc" != 0 ] || rc=$qemu_rc
        QEMU_PID=''
        if [ -n "$TAIL_PID" ]; then
                kill "$TAIL_PID" 2>/dev/null || true
                wait "$TAIL_PID" 2>/dev/null || true
                TAIL_PID=
        fi
        return "$rc"
}

# report BOOT DIR QEMU_RC: writes the boot's TAP (between the markers) to
# DIR/tap.out, and returns bats' status; when the boot did not reach its
# end, says why on stderr, writes the reason to DIR/broken and returns 1.
report() {
        local boot=$1 dir=$2 qemu_rc=$3 tap status why=''
        rm -f "$dir/broken"
        : >"$dir/tap.out"
        tap=$(tr -d '\r' <"$dir/tap.log")
        if ! grep -qxF '=== BERTH-VM TAP BEGIN ===' <<<"$tap"; then
                [ "$qemu_rc" = 124 ] && say "$boot: the VM timed out after ${TIMEOUT}s before the tests began"
                [ -s "$dir/qemu.log" ] && sed 's/^/qemu: /' "$dir/qemu.log" >&2
                say "$boot: no TAP from the VM (qemu exit status $qemu_rc); the console log is $dir/console.log:"
                tail -n 30 "$dir/console.log" | tr -d '\r' >&2
                echo "no TAP from the VM (qemu exit status $qemu_rc; console log $dir/console.log)" >"$dir/broken"
                return 1
        fi
        awk '/^=== BERTH-VM TAP BEGIN ===$/ { p = 1; next } /^=== BERTH-VM TAP END status=/ { exit } p' <<<"$tap" >"$dir/tap.out"
        status=$(sed -n 's/^=== BERTH-VM TAP END status=\([0-9]*\) ===$/\1/p' <<<"$tap" | tail -1)
        if [ -z "$status" ]; then
                if [ "$qemu_rc" = 124 ]; then
                        why="the VM timed out after ${TIMEOUT}s mid-run"
                else
                        why="the VM stopped mid-run (qemu exit status $qemu_rc)"
                fi
                say "$boot: $why; the console log is $dir/console.log:"
                tail -n 30 "$dir/console.log" | tr -d '\r' >&2
                echo "$why (console log $dir/console.log)" >"$dir/broken"
                return 1
        fi
        [ "$status" = 124 ] && say "$boot: bats timed out inside the VM; the console log is $dir/console.log"
        return "$status"
}

# emit_tap: every boot's TAP as one stream on stdout: one plan, the tests
# numbered on across boots, and a `not ok` for a boot that broke off.
emit_tap() {
        local boot dir plan last total=0 off=0
        local -A plans=()
        for boot in "${BOOTS[@]}"; do
                dir=${BOOT_DIR[$boot]}
                plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$dir/tap.out" | head -1)
                last=$(grep -Ec '^(not )?ok [0-9]' "$dir/tap.out" || true)
                [ -n "$plan" ] || plan=$last
                [ -f "$dir/broken" ] && [ "$plan" -le "$last" ] && plan=$((last + 1))
                plans[$boot]=$plan
                total=$((total + plan))
        done
        echo "1..$total"
        for boot in "${BOOTS[@]}"; do
                dir=${BOOT_DIR[$boot]}
                awk -v off="$off" '
                        /^1\.\.[0-9]+$/ { next }
                        /^ok [0-9]+/ { n = $2 + off; sub(/^ok [0-9]+/, "ok " n) }
                        /^not ok [0-9]+/ { n = $3 + off; sub(/^not ok [0-9]+/, "not ok " n) }
                        { print }' "$dir/tap.out"
                if [ -f "$dir/broken" ]; then
                        last=$(grep -Ec '^(not )?ok [0-9]' "$dir/tap.out" || true)
                        echo "not ok $((off + last + 1)) $boot VM: $(cat "$dir/broken")"
                fi
                off=$((off + plans[$boot]))
        done
}

main() {
        local t0 t1 t2 boot dir qemu_rc rc=0 brc
        select_boots
        check_tools
        mkdir -p "$VM_DIR"
        # One run at a time per build dir: they share the logs and image.
        exec 9>"$VM_DIR/.lock"
        flock -n 9 || die "another check-cgroup2 run is using $VM_DIR"
        for boot in "${BOOTS[@]}"; do
                mkdir -p "${BOOT_DIR[$boot]}"
        done
        t0=$SECONDS
        select_tests
        resolve_kernel
        build_initramfs
        t1=$SECONDS
        say "kernel $KERNEL_NAME; prepared in $((t1 - t0))s"
        for boot in "${BOOTS[@]}"; do
                dir=${BOOT_DIR[$boot]}
                if [ "$boot" = plain ]; then
                        say "plain: initramfs $(du -k "$dir/initramfs.cpio" | cut -f1) KiB; tests: ${TESTS[*]#"$SRC"/}"
                else
                        say "systemd: initramfs $(du -k "$dir/initramfs.cpio" | cut -f1) KiB; tests: ${SYSTEMD_TESTS[*]#"$SRC"/}"
                fi
                t1=$SECONDS
                qemu_rc=0 brc=0
                run_vm "$dir" || qemu_rc=$?
                t2=$SECONDS
                report "$boot" "$dir" "$qemu_rc" || brc=$?
                say "$boot: VM ran $((t2 - t1))s$(boot_time "$dir"); bats status $brc"
                [ "$rc" != 0 ] || rc=$brc
        done
        emit_tap
        return "$rc"
}

# boot_time DIR: ", booted in Ns": when userspace (under systemd: the test
# service) started, from the init's log line.
boot_time() {
        local s
        s=$(tr -d '\r' <"$1/console.log" | sed -n 's/.*userspace up at \([0-9.]*\)s.*/\1/p' | head -1)
        [ -n "$s" ] && printf ', booted in %ss' "$s"
        return 0
}

main
