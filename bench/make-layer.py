#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Builds the benchmark layer: about 230 MB in about 9,000 files of real,
compressible content (/usr/lib and /usr/share), in their nested directories,
as layer.tar, layer.tar.gz (gzip -6) and layer.tar.zst (zstd -3).

Usage: make-layer.py OUTDIR [MB] [FILES]
The choice is deterministic for a given machine: files in a seeded random
order, each taken while it keeps the running size on track for the target,
then files of 1 MB or more until the size is reached.
"""
import os
import random
import shutil
import subprocess
import sys


def candidates():
    out = []
    for top in ("/usr/lib", "/usr/share"):
        for root, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(root, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if os.path.isfile(path) and not os.path.islink(path) and 0 < st.st_size < 16 << 20:
                    out.append((path, st.st_size))
    return out


def main():
    outdir = sys.argv[1]
    target = int(sys.argv[2] if len(sys.argv) > 2 else 230) * 1000 * 1000
    nfiles = int(sys.argv[3] if len(sys.argv) > 3 else 9000)
    files = candidates()
    random.Random(42).shuffle(files)
    chosen, total = [], 0
    for path, size in files:
        if total >= target:
            break
        # keep on track: a file may not take more than its share plus half;
        # past the count, a few big files make up the size
        room = target * (len(chosen) + 1) / nfiles * 1.5 - total
        if (len(chosen) < nfiles and size <= room) or (len(chosen) >= nfiles and size >= 1 << 20):
            chosen.append(path)
            total += size
    tree = os.path.join(outdir, "tree")
    shutil.rmtree(tree, ignore_errors=True)
    for path in chosen:
        dest = os.path.join(tree, path.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(path, dest)
    tar = os.path.join(outdir, "layer.tar")
    subprocess.run(["tar", "-C", tree, "--sort=name", "-cf", tar, "."], check=True)
    with open(tar + ".gz", "wb") as f:
        subprocess.run(["gzip", "-6", "-c", tar], stdout=f, check=True)
    subprocess.run(["zstd", "-q", "-f", "-3", tar, "-o", tar + ".zst"], check=True)
    dirs = sum(len(d) for _, d, _ in os.walk(tree))
    print(f"{len(chosen)} files, {dirs} directories, {total / 1e6:.1f} MB of file data")
    for name in ("layer.tar", "layer.tar.gz", "layer.tar.zst"):
        print(f"{name}: {os.path.getsize(os.path.join(outdir, name)) / 1e6:.1f} MB")


main()
