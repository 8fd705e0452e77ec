#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Layer application against tar: bench/layer-apply.sh BUILDDIR DATADIR [RUNS]
# DATADIR holds layer.tar{,.gz,.zst} from bench/make-layer.py (made there
# first when missing); the output
# goes to DATADIR/out (or $OUT), on the same filesystem for every command.
# Each command runs RUNS times (default 5), interleaved with the others;
# prints the medians of wall time, CPU time (user+system, all processes:
# tar's gzip/zstd child counts) and peak RSS (the largest process). Page
# caches are not dropped: the input is warm. Every run writes a directory
# of its own, all removed at the end: ext4 skips inodes freed in the last
# minute when it allocates, so deleting between runs makes each run slower
# than the one before.
set -eu
build=$1 data=$2 runs=${3:-5}
apply=$build/bench/layer-apply
out=${OUT:-$data/out}
[ -f "$data/layer.tar.zst" ] || python3 "$(dirname "$0")/make-layer.py" "$data"
results=$(mktemp)
n=0
trap 'rm -f "$results"; rm -rf "$out".*' EXIT

run() { # name command...
        name=$1
        shift
        n=$((n + 1))
        dest=$out.$n
        # "@" in the command stands for this run's output directory
        for arg; do
                shift
                [ "$arg" = @ ] && arg=$dest
                set -- "$@" "$arg"
        done
        sync
        start=$(date +%s%N)
        /usr/bin/time -f '%M %U %S' -o "$results.rss" "$@" >/dev/null
        end=$(date +%s%N)
        read -r rss user sys <"$results.rss"
        cpu=$(echo "$user $sys" | awk '{ printf "%d", ($1 + $2) * 1000 }')
        echo "$name $(((end - start) / 1000000)) $rss $cpu" >>"$results"
        rm -f "$results.rss"
}

i=0
while [ "$i" -lt "$runs" ]; do
        run tar-xzf sh -c 'mkdir "$1" && tar -C "$1" -xzf "$2"' - @ "$data/layer.tar.gz"
        run berth-gzip "$apply" "$data/layer.tar.gz" @
        run tar-zstd sh -c 'mkdir "$1" && tar -C "$1" -I zstd -xf "$2"' - @ "$data/layer.tar.zst"
        run berth-zstd "$apply" "$data/layer.tar.zst" @
        run tar-plain sh -c 'mkdir "$1" && tar -C "$1" -xf "$2"' - @ "$data/layer.tar"
        run berth-plain "$apply" "$data/layer.tar" @
        run berth-gzip-pipe sh -c '"$1" - "$2" <"$3"' - "$apply" @ "$data/layer.tar.gz"
        i=$((i + 1))
done

median() { # name column
        awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$results" | sort -n |
                sed -n "$(((runs + 1) / 2))p"
}

printf '%-16s %9s %9s %9s   %s\n' command wall-ms cpu-ms rss-kB wall-ms-all
for name in tar-xzf berth-gzip tar-zstd berth-zstd tar-plain berth-plain berth-gzip-pipe; do
        printf '%-16s %9s %9s %9s   %s\n' "$name" "$(median "$name" 2)" "$(median "$name" 4)" \
                "$(median "$name" 3)" "$(awk -v n="$name" '$1 == n { printf "%s ", $2 }' "$results")"
done
