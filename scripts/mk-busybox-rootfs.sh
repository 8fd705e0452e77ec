#!/bin/sh
# Makes a minimal root filesystem from the distribution's static busybox.
#   mk-busybox-rootfs.sh DEST [TESTHELPER]
# DEST gets /bin/busybox with its applet links, /etc/passwd and /etc/group,
# and, when given, the static test helper as /bin/berth-testhelper.
set -eu

dest=${1:?usage: mk-busybox-rootfs.sh DEST [TESTHELPER]}
helper=${2:-}
# Debian's busybox-static installs the static build as /bin/busybox.
busybox=/bin/busybox
"$busybox" --list >/dev/null 2>&1 || { echo "mk-busybox-rootfs: no static busybox (apt-get install busybox-static)" >&2; exit 1; }

mkdir -p "$dest"/bin "$dest"/sbin "$dest"/usr/bin "$dest"/usr/sbin "$dest"/etc \
        "$dest"/proc "$dest"/sys "$dest"/dev "$dest"/tmp "$dest"/root "$dest"/home "$dest"/var/tmp
chmod 1777 "$dest"/tmp "$dest"/var/tmp
cp "$busybox" "$dest"/bin/busybox
for applet in $("$dest"/bin/busybox --list); do
        [ -e "$dest/bin/$applet" ] || ln -s busybox "$dest/bin/$applet"
done
cat > "$dest"/etc/passwd <<PASSWD
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$dest"/etc/group <<GROUP
root:x:0:
daemon:x:1:
users:x:100:
nogroup:x:65534:
GROUP
if [ -n "$helper" ]; then
        cp "$helper" "$dest"/bin/berth-testhelper
        chmod 755 "$dest"/bin/berth-testhelper
fi
