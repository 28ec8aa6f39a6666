"""rump.dhcpclient as a process against rump_server processes on a shmif bus:
usage, missing interface, a kernel without bpf, and no DHCP server (the wait
is bounded). The exchange itself: tests/unit/test_dhcpclient.py (scripted
server) and tests/interop/test_dhcpclient_dnsmasq.py (dnsmasq through a tap)."""
import time

NET = ("-lrumpnet", "-lrumpnet_net", "-lrumpnet_netinet", "-lrumpnet_shmif")
BPF = ("-lrumpvfs", "-lrumpdev", "-lrumpdev_bpf")
USAGE = "Usage: rump.dhcpclient [-dq] ifname ...\n"


def with_shmif(h, bus):
    for argv in (("shmif0", "create"), ("shmif0", "linkstr", bus)):
        r = h.run("rump.ifconfig", *argv)
        assert r.returncode == 0, r.stderr


def test_usage_and_bad_interfaces(servers, tmp_path):
    h = servers(*NET, *BPF)
    r = h.run("rump.dhcpclient")
    assert (r.returncode, r.stdout, r.stderr.decode()) == (1, b"", USAGE)
    r = h.run("rump.dhcpclient", "-x", "shmif0")
    assert (r.returncode, r.stderr.decode()) == (1, "rump.dhcpclient: unknown option -- x\n" + USAGE)
    r = h.run("rump.dhcpclient", "shmif5")
    assert (r.returncode, r.stderr.decode()) == (1, "rump.dhcpclient: cannot init shmif5: Device not configured\n")
    r = h.run("rump.dhcpclient", "lo0", "shmif5")           # each interface is tried; exit 1 if any failed
    assert (r.returncode, r.stderr.decode()) == (
        1, "rump.dhcpclient: failed to get hwaddr for lo0: Can't assign requested address\n"
           "rump.dhcpclient: cannot init shmif5: Device not configured\n")
    r = h.run("rump.dhcpclient", "shmif0", env={"RUMP_SERVER": "unix://" + str(tmp_path / "nothing")})
    assert r.returncode == 1 and r.stderr.decode().endswith(
        "rump.dhcpclient: init failed: No such file or directory\n")


def test_kernel_without_bpf(servers, tmp_path):
    h = servers(*NET, name="novfs")
    with_shmif(h, str(tmp_path / "bus"))
    r = h.run("rump.dhcpclient", "shmif0")
    assert (r.returncode, r.stderr.decode()) == (1, "rump.dhcpclient: bpf: Function not implemented\n")
    h = servers(*NET, "-lrumpvfs", name="nobpf")              # a file system, but no /dev/bpf in it
    with_shmif(h, str(tmp_path / "bus"))
    r = h.run("rump.dhcpclient", "shmif0")
    assert (r.returncode, r.stderr.decode()) == (1, "rump.dhcpclient: bpf: No such file or directory\n")


def test_no_server_answers(servers, tmp_path):
    h = servers(*NET, *BPF)
    with_shmif(h, str(tmp_path / "bus"))
    t0 = time.monotonic()
    r = h.run("rump.dhcpclient", "shmif0", timeout=60)
    took = time.monotonic() - t0
    assert (r.returncode, r.stdout, r.stderr.decode()) == (1, b"", "rump.dhcpclient: timed out waiting for response\n")
    assert 5.0 <= took < 30.0, took                          # one 5 s wait, then the end
    r = h.run("rump.ifconfig", "shmif0")
    assert r.stdout.decode().startswith("shmif0: flags=0x8843<UP,")  # brought up, no address
    assert "\tinet " not in r.stdout.decode()
