#!/usr/bin/env bash
# Two rump kernels on one shmif bus: the tutorial's networking commands, then TCP between
# the kernels from unmodified programs (through librumphijack) and the sockets listed.
# Usage: examples/network-session.sh   (make demo runs it with the virtual environment on PATH)
# Each step says first what it shows, then runs the command.
set -u
work=$(mktemp -d)
cd "$work" || exit 1
stop() {
    RUMP_SERVER=unix://$work/a rump.halt 2>/dev/null
    RUMP_SERVER=unix://$work/b rump.halt 2>/dev/null
    cd / && rm -rf "$work"
}
trap stop EXIT

say() { printf '\n# %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@" 2>&1; }

NET="-lrumpnet -lrumpnet_net -lrumpnet_netinet -lrumpnet_shmif"
say "Two kernels with the TCP/IP stack and the shmif interface; neither needs privileges."
run rump_server -lrumpvfs $NET unix://a
run rump_server -lrumpvfs $NET unix://b
say "Kernel a: an interface on the bus file ./bus, with an address."
export RUMP_SERVER=unix://a
printf '$ export RUMP_SERVER=unix://a\n'
run rump.ifconfig shmif0 create
run rump.ifconfig shmif0 linkstr "$work/bus"
run rump.ifconfig shmif0 inet 10.1.1.1
say "Kernel b the same, with 10.1.1.2."
RUMP_SERVER=unix://b run rump.ifconfig shmif0 create
RUMP_SERVER=unix://b run rump.ifconfig shmif0 linkstr "$work/bus"
RUMP_SERVER=unix://b run rump.ifconfig shmif0 inet 10.1.1.2
say "The interface as NetBSD's ifconfig prints it, and the routes setting the address added."
run rump.ifconfig shmif0
run rump.netstat -rn -f inet
say "Kernel a pings kernel b across the bus: real round trips between two processes."
run rump.ping -c 3 10.1.1.2
say "ARP learnt b's address on the way."
run rump.arp -an
say "TCP: an unmodified python3 serves HTTP inside kernel b (LD_PRELOAD=librumphijack.so),
# and an unmodified python3 in kernel a fetches from it across the bus."
echo "hello from kernel b" > index.html
printf '$ RUMP_SERVER=unix://b rumphijack python3 -m http.server -b 10.1.1.2 8080 &\n'
RUMP_SERVER=unix://b rumphijack python3 -m http.server -b 10.1.1.2 8080 >/dev/null 2>&1 &
httpd=$!
fetch='import time, urllib.request
for _ in range(300):
    try:
        print(urllib.request.urlopen("http://10.1.1.2:8080/index.html", timeout=5).read().decode(), end="")
        break
    except OSError:
        time.sleep(0.1)'
printf '$ rumphijack python3 -c "urllib.request.urlopen(\\"http://10.1.1.2:8080/index.html\\")..."\n'
rumphijack python3 -c "$fetch" 2>&1
say "Kernel b's sockets while the server runs: the listener belongs to python3."
RUMP_SERVER=unix://b run rump.sockstat -4
say "The HTTP/1.0 server closed first, so kernel b keeps the connection in TIME_WAIT
# (10 s for a peer on an attached subnet) beside the listener."
RUMP_SERVER=unix://b run rump.netstat -an -f inet
kill "$httpd" 2>/dev/null
wait "$httpd" 2>/dev/null
say "TCP's counters, as netstat -s shows them."
run rump.netstat -s -p tcp
exit 0
