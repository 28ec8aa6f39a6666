#!/usr/bin/env bash
# The tutorial's "Your First Server" session, run as written with rumptools.
# Usage: examples/first-server.sh   (make demo runs it with the virtual environment on PATH)
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

run() { printf '$ %s\n' "$*"; "$@" 2>&1; }

run rump_server unix://rumpserver
run ls -l rumpserver
export RUMP_SERVER=unix://rumpserver
printf '$ export RUMP_SERVER=unix://rumpserver\n'
run rump.sysctl kern.hostname
run rump.sysctl kern.ostype kern.osrelease hw.ncpu
run rump.modstat
run rump.sysctl vfs.generic.fstypes      # a bare server has no VFS: an error, as on NetBSD
run rump.halt
run rump.sysctl kern.hostname            # the server is gone
run ls -l rumpserver                     # and so is its socket
exit 0
