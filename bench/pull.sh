#!/usr/bin/env bash
# Pull benchmark: one image with one big layer (~230 MB in ~9,000 files,
# from this machine's /usr) in two variants, gzip and zstd, in a local
# distribution registry on 127.0.0.1; each contender pulls it into a fresh
# store, in one run:
#   berth     berth pull (download, store, decompress and unpack overlapped)
#   podman    podman pull (overlay storage, its own fresh --root)
#   ctr       ctr images pull --plain-http (a containerd of its own, fresh root)
#   skopeo    skopeo copy to dir: (download and store only, no unpack)
#   floor     tar -xzf / tar -I zstd -xf of the same layer from a local file
#
#   bench/pull.sh BUILD_DIR [--write-docs]
#
# Environment:
#   BENCH_PULL_N=5         runs per contender and variant (the median is kept)
#   BENCH_PULL_MB=230      layer size, BENCH_PULL_FILES=9000 files
#   BENCH_PULL_TOOLS="berth podman ctr skopeo floor"
#   BENCH_WRITE_DOCS=1     same as --write-docs: rewrite the "Pull" section of
#                          docs/benchmarks.md
# Peak RSS is GNU time's %M of the contender's client process (and its
# children): for ctr that is the client only (containerd does the unpacking);
# containerd's own peak is reported beside it from /proc/PID/status VmHWM.
set -euo pipefail
export LC_ALL=C

prog=bench/pull.sh
die() { echo "$prog: error: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

[ $# -ge 1 ] || { echo "usage: $prog BUILD_DIR [--write-docs]" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
write_docs=${BENCH_WRITE_DOCS:-0}
[ "${2:-}" = --write-docs ] && write_docs=1
N=${BENCH_PULL_N:-5}
MB=${BENCH_PULL_MB:-230}
FILES=${BENCH_PULL_FILES:-9000}
TOOLS=${BENCH_PULL_TOOLS:-berth podman ctr skopeo floor}
BERTH=$build/src/cli/berth
[ -x "$BERTH" ] || die "$BERTH is not built"
[ "$(id -u)" = 0 ] || die "run as root"

work=$(mktemp -d /var/tmp/berth-bench-pull.XXXXXX)
containerd_pid=
cleanup() {
	[ -n "$containerd_pid" ] && kill "$containerd_pid" 2>/dev/null && wait "$containerd_pid" 2>/dev/null
	registry_stop 2>/dev/null || true
	for m in $(awk -v w="$work" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=tests/integration/registry-helpers.bash
. "$repo/tests/integration/registry-helpers.bash"
# registry-helpers uses bats' temporary directory when there is one.
export BATS_RUN_TMPDIR=$work BATS_TEST_TMPDIR=$work BATS_FILE_TMPDIR=$work

start=$(date +%s)
note "making the layer: ${MB} MB in ${FILES} files"
python3 "$repo/tests/image/mktar.py" bulk "$work/layer.tar" "$MB" "$FILES"
gzip -6 -c "$work/layer.tar" >"$work/layer.tar.gz"
zstd -q -3 -c "$work/layer.tar" >"$work/layer.tar.zst"
files=$(tar -tf "$work/layer.tar" | wc -l)
for v in gzip zstd; do
	python3 "$repo/tests/image/mkimage.py" "$work/layout-$v" --compress "$v" --tar "$work/layer.tar" >/dev/null
done
rm -f "$work/layer.tar"

registry_start anon
for v in gzip zstd; do
	skopeo copy --quiet --dest-tls-verify=false "oci:$work/layout-$v" "docker://$REGISTRY/bench/big:$v"
done

# time_run OUT_PREFIX CMD...: wall seconds and peak KiB of one run into OUT_PREFIX.{s,kb}
time_run() {
	local out=$1
	shift
	/usr/bin/time -f '%e %M' -o "$out.time" "$@" >"$out.log" 2>&1 || {
		cat "$out.log" >&2
		die "failed: $*"
	}
	read -r secs kb <"$out.time"
	echo "$secs" >>"$out.s"
	echo "$kb" >>"$out.kb"
}

fresh() { # a new empty directory under $work
	local d
	d=$(mktemp -d "$work/run.XXXXXX")
	echo "$d"
}

# Every run's output stays until the end: deleting it between runs makes the
# next run much slower on ext4 (it avoids recently freed inodes), and would
# favour whoever runs first.

start_containerd() { # a containerd with a fresh root in DIR
	local d=$1
	mkdir -p "$d"
	cat >"$d/config.toml" <<-EOF
		version = 2
		root = "$d/root"
		state = "$d/state"
		[grpc]
		  address = "$d/sock"
		[plugins."io.containerd.grpc.v1.cri"]
		  disable = true
	EOF
	containerd --config "$d/config.toml" >"$d/log" 2>&1 &
	containerd_pid=$!
	for _ in $(seq 100); do
		[ -S "$d/sock" ] && return 0
		sleep 0.1
	done
	die "containerd did not start: $(tail -5 "$d/log")"
}

run_tool() { # tool variant run-index
	local tool=$1 v=$2 i=$3 d out=$work/res-$1-$2
	d=$(fresh)
	case $tool in
	berth)
		time_run "$out" "$BERTH" --root "$d/root" --runroot "$d/run" pull -q "$REGISTRY/bench/big:$v"
		;;
	podman)
		time_run "$out" podman --root "$d/root" --runroot "$d/run" --storage-driver overlay \
			pull -q --tls-verify=false "$REGISTRY/bench/big:$v"
		;;
	ctr)
		start_containerd "$d/containerd"
		time_run "$out" ctr --address "$d/containerd/sock" -n bench images pull \
			--plain-http "$REGISTRY/bench/big:$v"
		grep VmHWM "/proc/$containerd_pid/status" | awk '{print $2}' >>"$out.server_kb"
		kill "$containerd_pid"
		wait "$containerd_pid" 2>/dev/null || true
		containerd_pid=
		;;
	skopeo)
		time_run "$out" skopeo copy --quiet --src-tls-verify=false "docker://$REGISTRY/bench/big:$v" "dir:$d/dir"
		;;
	floor)
		mkdir -p "$d/x"
		if [ "$v" = gzip ]; then
			time_run "$out" tar -xzf "$work/layer.tar.gz" -C "$d/x"
		else
			time_run "$out" tar -I zstd -xf "$work/layer.tar.zst" -C "$d/x"
		fi
		;;
	esac
}

# Interleaved: run i of every contender before run i+1 of any, so that drift
# in the machine's load touches all alike.
for i in $(seq "$N"); do
	for tool in $TOOLS; do
		for v in gzip zstd; do
			sync
			run_tool "$tool" "$v" "$i"
		done
	done
	note "round $i of $N done"
done

median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
maxof() { sort -n "$1" | tail -1; }

table=$work/table.md
{
	echo "| contender | gzip s | ratio to tar -xzf | zstd s | ratio to tar -I zstd -xf | peak RSS gzip / zstd (MB) |"
	echo "|---|---:|---:|---:|---:|---:|"
	fg=$(median "$work/res-floor-gzip.s" 2>/dev/null || echo 0)
	fz=$(median "$work/res-floor-zstd.s" 2>/dev/null || echo 0)
	for tool in $TOOLS; do
		g=$(median "$work/res-$tool-gzip.s")
		z=$(median "$work/res-$tool-zstd.s")
		mg=$(maxof "$work/res-$tool-gzip.kb")
		mz=$(maxof "$work/res-$tool-zstd.kb")
		label=$tool
		case $tool in
		berth) label="berth pull" ;;
		podman) label="podman pull (overlay)" ;;
		ctr) label="ctr images pull (containerd unpacks; its peak: $(($(maxof "$work/res-ctr-gzip.server_kb") / 1024)) MB)" ;;
		skopeo) label="skopeo copy to dir: (download only)" ;;
		floor) label="floor: tar -xzf / tar -I zstd -xf of the layer file" ;;
		esac
		awk -v l="$label" -v g="$g" -v z="$z" -v fg="$fg" -v fz="$fz" -v mg="$mg" -v mz="$mz" \
			'BEGIN { printf "| %s | %.2f | %.2f× | %.2f | %.2f× | %.0f / %.0f |\n", l, g, (fg > 0 ? g / fg : 0), z, (fz > 0 ? z / fz : 0), mg / 1024, mz / 1024 }'
	done
} >"$table"
cat "$table"
elapsed=$(($(date +%s) - start))

if [ "$write_docs" = 1 ]; then
	docs=$repo/docs/benchmarks.md
	section=$work/section.md
	gz=$(stat -c %s "$work/layer.tar.gz")
	zs=$(stat -c %s "$work/layer.tar.zst")
	{
		echo "## Pull: one ${MB} MB layer from a local registry"
		echo
		echo "Machine: $(nproc) CPUs, Linux $(uname -r); $(date -u '+%Y-%m-%d %H:%M UTC')."
		echo "Versions: $("$BERTH" --version); $(podman --version); $(ctr --version | head -1); $(skopeo --version); $(tar --version | head -1)."
		echo
		cat "$table"
		echo
		echo "The layer: $files tar entries from this machine's /usr, $((gz / 1000000)) MB as gzip -6, $((zs / 1000000)) MB as zstd -3,"
		echo "in an OCI image pushed by skopeo to Debian's docker-registry on 127.0.0.1 (plain HTTP)."
		echo "Median of $N interleaved runs each, every run into a fresh store (ctr: a fresh containerd) on the"
		echo "same ext4 file system as the floor's target; outputs are kept until the end (see bench/layer-apply.sh)."
		echo "This section comes from one run of \`bench/pull.sh BUILD_DIR --write-docs\` ($elapsed s)."
	} >"$section"
	python3 - "$docs" "$section" <<-'PY'
		import re, sys
		docs, section = sys.argv[1], open(sys.argv[2]).read()
		text = open(docs).read()
		pat = re.compile(r"^## Pull:.*?(?=^## |\Z)", re.S | re.M)
		text = pat.sub(lambda m: section + "\n", text) if pat.search(text) else text.rstrip("\n") + "\n\n" + section
		open(docs, "w").write(text)
	PY
	note "wrote the Pull section of $docs"
fi
