#!/usr/bin/env python3
"""Builds the layer tarballs the image tests and benchmarks use.

  mktar.py busybox OUT.tar         a busybox root filesystem (the static
                                   binary, a link per applet, /etc files)
  mktar.py file OUT.tar PATH TEXT  one regular file PATH holding TEXT
  mktar.py whiteout OUT.tar PATH   a whiteout for PATH (".wh." entry)
  mktar.py opaque OUT.tar DIR      DIR marked opaque (".wh..wh..opq") holding
                                   one file, DIR/kept
  mktar.py hostile-KIND OUT.tar    a layer that tries to escape:
      dotdot      ../escaped
      abs-dotdot  /a/../../escaped   (".." after an absolute start)
      symlink     evil -> /tmp/<outside>, then evil/escaped
      symlink-rel up -> ../../.., then up/escaped
      hardlink    a hardlink to ../../../etc/shadow
      device      a block device node (sda, 8:0)
      huge        a file header claiming 2^40 bytes (then truncated)
      many        200001 empty files (beyond a small entry limit)
  mktar.py bulk OUT.tar SIZE_MB FILES   a tree of FILES files, SIZE_MB in all,
                                   from /usr content (for benchmarks)

Entries are deterministic (mtime 2024-01-02, root-owned).
"""
import io
import os
import subprocess
import sys
import tarfile

MTIME = 1704164645


def info(name, typ=tarfile.REGTYPE, mode=0o644, size=0, linkname=""):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.size, ti.linkname, ti.mtime = typ, mode, size, linkname, MTIME
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    return ti


def add_dir(t, name, mode=0o755):
    t.addfile(info(name, tarfile.DIRTYPE, mode))


def add_file(t, name, data, mode=0o644):
    t.addfile(info(name, size=len(data), mode=mode), io.BytesIO(data))


def busybox(out):
    bb = "/bin/busybox"
    applets = subprocess.run([bb, "--list-full"], check=True, stdout=subprocess.PIPE,
                             text=True).stdout.split()
    with open(bb, "rb") as f:
        data = f.read()
    with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
        for d in ["bin", "dev", "etc", "home", "proc", "root", "sys", "tmp", "usr", "usr/bin",
                  "usr/sbin", "sbin", "var", "var/spool", "var/spool/mail", "var/www"]:
            add_dir(t, d, 0o1777 if d == "tmp" else (0o700 if d == "root" else 0o755))
        add_file(t, "bin/busybox", data, 0o755)
        for a in sorted(set(applets)):
            if a in ("bin/busybox",):
                continue
            t.addfile(info(a, tarfile.LNKTYPE, 0o755, linkname="bin/busybox"))
        add_file(t, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                 b"daemon:x:1:1:daemon:/usr/sbin:/bin/false\nbin:x:2:2:bin:/bin:/bin/false\n"
                 b"sys:x:3:3:sys:/dev:/bin/false\nsync:x:4:100:sync:/bin:/bin/sync\n"
                 b"mail:x:8:8:mail:/var/spool/mail:/bin/false\n"
                 b"www-data:x:33:33:www-data:/var/www:/bin/false\n"
                 b"operator:x:37:37:Operator:/var:/bin/false\n"
                 b"nobody:x:65534:65534:nobody:/home:/bin/false\n")
        add_file(t, "etc/group", b"root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\n"
                 b"tty:x:5:\ndisk:x:6:\nwheel:x:10:root\nmail:x:8:\nwww-data:x:33:\n"
                 b"operator:x:37:\nusers:x:100:\nnogroup:x:65534:\n")
        add_file(t, "etc/shadow", b"root:*:10933:0:99999:7:::\n", 0o600)


def hostile(kind, out):
    with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
        if kind == "dotdot":
            add_file(t, "../escaped", b"escaped\n")
        elif kind == "abs-dotdot":
            add_file(t, "/a/../../escaped", b"escaped\n")
        elif kind == "symlink":
            t.addfile(info("evil", tarfile.SYMTYPE, 0o777, linkname=os.environ["OUTSIDE"]))
            add_file(t, "evil/escaped", b"escaped\n")
        elif kind == "symlink-rel":
            t.addfile(info("up", tarfile.SYMTYPE, 0o777, linkname="../../.."))
            add_file(t, "up/escaped", b"escaped\n")
        elif kind == "hardlink":
            t.addfile(info("shadow", tarfile.LNKTYPE, 0o644, linkname="../../../etc/shadow"))
        elif kind == "device":
            ti = info("sda", tarfile.BLKTYPE, 0o600)
            ti.devmajor, ti.devminor = 8, 0
            t.addfile(ti)
        elif kind == "many":
            for i in range(200001):
                t.addfile(info("f%d" % i))
        else:
            raise SystemExit("unknown hostile kind " + kind)
    if kind == "huge":
        pass


def huge(out):
    # A header that claims a 1 TiB file, followed by a little data: the
    # unpacker must stop at its byte limit or at the truncation, not fill the disk.
    ti = info("huge", size=1 << 40)
    buf = ti.tobuf(format=tarfile.GNU_FORMAT)
    with open(out, "wb") as f:
        f.write(buf)
        f.write(b"\0" * (1 << 20))


def bulk(out, size_mb, files):
    srcs = []
    for root, dirs, names in os.walk("/usr"):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(root, n)
            if os.path.isfile(p) and not os.path.islink(p):
                srcs.append(p)
    budget, per_dir = size_mb << 20, 60
    with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
        written, i = 0, 0
        for p in srcs:
            if i >= files:
                break
            try:
                with open(p, "rb") as f:
                    data = f.read(max(1, min(budget - written, 4 << 20)))
            except OSError:
                continue
            d = "d%03d/s%02d" % (i // (per_dir * 10), (i // per_dir) % 10)
            if i % per_dir == 0:
                if i % (per_dir * 10) == 0:
                    add_dir(t, d.split("/")[0])
                add_dir(t, d)
            add_file(t, "%s/f%05d-%s" % (d, i, os.path.basename(p)[:40]), data,
                     0o755 if os.access(p, os.X_OK) else 0o644)
            written += len(data)
            i += 1
        # Top up to the size with files of the same sources, if /usr ran short.
        j = 0
        while written < budget and srcs:
            with open(srcs[j % len(srcs)], "rb") as f:
                data = f.read(min(budget - written, 4 << 20))
            add_file(t, "extra/f%05d" % j, data) if j else (add_dir(t, "extra"), add_file(t, "extra/f%05d" % j, data))
            written += len(data)
            j += 1


def main():
    kind, out = sys.argv[1], sys.argv[2]
    if kind == "busybox":
        busybox(out)
    elif kind == "file":
        with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
            parts = sys.argv[3].split("/")
            for k in range(1, len(parts)):
                add_dir(t, "/".join(parts[:k]))
            add_file(t, sys.argv[3], sys.argv[4].encode())
    elif kind == "whiteout":
        with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
            d, b = os.path.split(sys.argv[3])
            add_file(t, os.path.join(d, ".wh." + b), b"")
    elif kind == "opaque":
        with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
            parts = sys.argv[3].split("/")
            for k in range(1, len(parts) + 1):
                add_dir(t, "/".join(parts[:k]))
            add_file(t, sys.argv[3] + "/.wh..wh..opq", b"")
            add_file(t, sys.argv[3] + "/kept", b"kept\n")
    elif kind == "hostile-huge":
        huge(out)
    elif kind.startswith("hostile-"):
        hostile(kind[8:], out)
    elif kind == "bulk":
        bulk(out, int(sys.argv[3]), int(sys.argv[4]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
