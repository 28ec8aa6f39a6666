#!/usr/bin/env bash
# The tutorial's "Userspace cgd encryption" session, run with rumptools and no root:
# a USB image gets a new partition e, and an encrypted copy of a file system image
# is written into it through a rump kernel's cgd.
# Usage: examples/cgd-session.sh   (make demo runs it with the virtual environment on PATH)
set -eu
work=$(mktemp -d)
trap 'rump.halt 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

say() { printf '\n# %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "a 512 MiB USB image with the tutorial's disklabel (sparse: it costs no disk space)"
truncate -s 512m usb.img
cat > usb.proto <<'LABEL'
type: unknown
disk: USB image
label:
bytes/sector: 512
sectors/track: 63
tracks/cylinder: 16
sectors/cylinder: 1008
cylinders: 1040
total sectors: 1048576
rpm: 3600
interleave: 1
16 partitions:
 a:    981792        63     4.2BSD   1024  8192     0
 b:     66721    981855       swap
 c:   1048513        63     unused      0     0
 d:   1048576         0     unused      0     0
LABEL
run rump.disklabel -I -R usb.img usb.proto
run rump.disklabel usb.img

say "the data to protect (random bytes stand in for the tutorial's makefs image)"
head -c 12812288 /dev/urandom > unencrypted.ffs
run expr "$(stat -c %s unencrypted.ffs)" / 512

say "add partition e after the others, as the tutorial does with disklabel -e"
cat > add-e.sh <<'EDIT'
#!/bin/sh
sed -i -e 's/^total sectors: .*/total sectors: 1073600/' \
       -e 's/^ c: .*/ c:   1073537        63     unused      0     0/' \
       -e 's/^ d: .*/ d:   1073600         0     unused      0     0/' "$1"
echo ' e:     25024   1048576    unknown' >> "$1"
EDIT
chmod +x add-e.sh
EDITOR=./add-e.sh run rump.disklabel -e usb.img
run rump.disklabel usb.img

export RUMP_SERVER=unix://$work/cgdserv
printf '$ export RUMP_SERVER=%s\n' "$RUMP_SERVER"
run rump_server -lrumpvfs -lrumpkern_crypto -lrumpdev -lrumpdev_disk -lrumpdev_cgd \
    -d key=/dk,hostpath=usb.img,disklabel=e "$RUMP_SERVER"
run ls -l usb.img

say "a zero-filled partition of the right size"
printf '$ rump.dd if=/dk bs=64k > emptypart\n'; rump.dd if=/dk bs=64k > emptypart
run hexdump -x emptypart

say "cgd parameters (iteration count calibrated to this machine) and the encrypted view"
printf '$ rump.cgdconfig -g aes-cbc > usb.cgdparams\n'; rump.cgdconfig -g aes-cbc > usb.cgdparams
run cat usb.cgdparams
printf '$ rump.cgdconfig cgd0 /dk usb.cgdparams     (passphrase given on stdin)\n'
echo "demo passphrase" | rump.cgdconfig cgd0 /dk usb.cgdparams
echo
printf '$ rump.dd if=/dev/rcgd0d | hexdump -x | sed 8q\n'
rump.dd if=/dev/rcgd0d 2>/dev/null | hexdump -x | sed 8q

say "encrypt the image into partition e"
printf '$ dd if=unencrypted.ffs bs=64k | rump.dd of=/dev/rcgd0d bs=64k\n'
dd if=unencrypted.ffs bs=64k | rump.dd of=/dev/rcgd0d bs=64k
printf '$ rump.dd if=/dk count=1\n'; rump.dd if=/dk count=1 || true
run rump.halt
unset RUMP_SERVER

say "usb.img now holds the ciphertext; the plaintext is nowhere in it"
if cmp -s <(tail -c +$((1048576 * 512 + 1)) usb.img | head -c 12812288) unencrypted.ffs; then
    echo "plaintext found: something is wrong"; exit 1
fi
echo "ok: partition e differs from the plaintext"
