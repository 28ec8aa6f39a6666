#!/usr/bin/env bash
# The tutorial's "Emulating makefs" session, run with rumptools and no root: an
# empty FFS image is made with newfs, mounted inside a rump kernel, filled with a
# directory tree, unmounted clean, and checked by fsck_ffs.
# Usage: examples/ffs-makefs-session.sh   (make demo runs it with the venv on PATH)
set -eu
work=$(mktemp -d)
export RUMP_SERVER=unix://$work/ffs_server
trap 'rump.halt 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

say() { printf '\n# %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "a directory tree to put in the image (stands in for nethack-3.4.3)"
mkdir -p src/nethack/doc src/nethack/src
for i in $(seq 1 40); do head -c $((i * 997)) /dev/urandom > src/nethack/src/file$i.c; done
printf 'NetHack\n' > src/nethack/README
run du -sh src/nethack

say "an empty file system, a little larger than the tree"
run rump.newfs -F -s 14M nethack.img

say "a rump kernel with FFS, the image mapped as /dk"
run rump_server -lrumpvfs -lrumpfs_ffs -d key=/dk,hostpath=nethack.img,size=host "$RUMP_SERVER"

say "a mount point, the mount, and df inside the rump kernel"
PY=$(command -v python3)
[ -x "$(dirname "$(command -v rump.dd)")/python" ] && PY="$(dirname "$(command -v rump.dd)")/python"
"$PY" -c 'from rumptools.sp import client; client.init("mkdir").mkdir("/mnt", 0o755)'
run rump.mount_ffs /dk /mnt
run rump.df -ik /mnt
run rump.mount

say "copy the tree in through the client API (pax -rw with the hijack library does the same)"
"$PY" - src/nethack /mnt/nethack <<'PYTHON'
import os, sys
from rumptools.sp import client
c = client.init("copy")
src, dst = sys.argv[1], sys.argv[2]
for dirpath, dirnames, filenames in os.walk(src):
    base = dst + dirpath[len(src):]
    c.mkdir(base, 0o755)
    for f in filenames:
        with open(os.path.join(dirpath, f), "rb") as fh:
            data = fh.read()
        fd = c.open(base + "/" + f, 0x202, 0o644)
        c.write(fd, data)
        c.close(fd)
PYTHON
run rump.df -ik /mnt
rump.dd if=/mnt/nethack/README 2>/dev/null

say "unmount (the image is marked clean), halt, and check"
run rump.umount -R /mnt
run rump.halt
run rump.fsck_ffs -n -F nethack.img
run rump.fsck_ffs -f -n -F nethack.img
echo "ok: nethack.img holds the tree and is clean"
