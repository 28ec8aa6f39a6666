#!/usr/bin/env bash
# The tutorial's "Your First Server" session, run as written with rumptools.
# Usage: examples/first-server.sh   (make demo runs it with the virtual environment on PATH)
# Each step says first what it shows, then runs the command as the tutorial does.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

say() { printf '\n# %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@" 2>&1; }

say "Start a rump kernel server: it detaches, and exits 0 once its socket accepts."
run rump_server unix://rumpserver
say "The server is a unix socket in this directory, only for its owner (mode 0600)."
run ls -l rumpserver
say "Clients find the server through RUMP_SERVER."
export RUMP_SERVER=unix://rumpserver
printf '$ export RUMP_SERVER=unix://rumpserver\n'
say "The kernel's host name: rump-<server pid>.<host name>.rumpdomain."
run rump.sysctl kern.hostname
say "It is a NetBSD kernel, whatever the host runs; two virtual CPUs by default."
run rump.sysctl kern.ostype kern.osrelease hw.ncpu
say "Its modules: only the kernel core and the remote system call server."
run rump.modstat
say "This server was started without -lrumpvfs, so it has no file systems: vfs exists
# (it does on every NetBSD kernel) but is empty, and sysctl says the second level is invalid."
run rump.sysctl vfs.generic.fstypes
say "Halt the kernel: the server exits and removes its socket."
run rump.halt
say "Now no server answers: the command cannot connect (prog init failed)."
run rump.sysctl kern.hostname
say "And the socket is gone."
run ls -l rumpserver
exit 0
