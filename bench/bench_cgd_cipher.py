#!/usr/bin/env python3
"""Throughput of cgd's sector ciphers on 1 MiB requests, against OpenSSL.

Prints, for aes-cbc-128, aes-cbc-256 and aes-xts-256, the median MiB/s of
rumptools' encrypt() and decrypt() (a 1 MiB request = 2048 sectors of 512
bytes, bytes in, bytes out) next to `openssl speed -evp` on 1 MiB buffers
measured in the same run, and the ratio.  OpenSSL runs one CBC stream; cgd
runs 2048 independent sectors, so a ratio above 1 is possible for CBC.

    python bench/bench_cgd_cipher.py [--runs 40] [--seconds 1]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from rumptools.crypto.cgd_ciphers import make_cipher  # noqa: E402

REQUEST = 1 << 20
MIB = float(1 << 20)
CASES = [  # (cgd alg, key bits, openssl cipher with the same key size)
    ("aes-cbc", 128, "aes-128-cbc"),
    ("aes-cbc", 256, "aes-256-cbc"),
    ("aes-xts", 256, "aes-128-xts"),   # XTS key = two AES-128 keys
]


def ours(alg: str, bits: int, runs: int) -> tuple[float, float]:
    """Median MiB/s of encrypt and of decrypt over `runs` requests each."""
    c = make_cipher(alg, os.urandom(bits // 8))
    data = os.urandom(REQUEST)
    ct = c.encrypt(data, 0)
    result = []
    for op, buf in ((c.encrypt, data), (c.decrypt, ct)):
        for i in range(3):                      # warm up scratch buffers
            op(buf, i * 2048)
        rates = []
        for i in range(runs):
            t0 = time.perf_counter()
            op(buf, i * 2048)
            rates.append(REQUEST / MIB / (time.perf_counter() - t0))
        result.append(statistics.median(rates))
    return result[0], result[1]


def openssl(cipher: str, decrypt: bool, seconds: int) -> float | None:
    """MiB/s `openssl speed -evp` reports for 1 MiB buffers, or None."""
    exe = shutil.which("openssl")
    if not exe:
        return None
    cmd = [exe, "speed", "-evp", cipher, "-bytes", str(REQUEST),
           "-seconds", str(seconds)] + (["-decrypt"] if decrypt else [])
    try:
        out = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=60 + 4 * seconds).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    # last line: "AES-128-CBC   1169162.24k" (1000s of bytes per second)
    m = re.search(r"^\S+\s+([\d.]+)k\s*$", out.strip().splitlines()[-1]
                  if out.strip() else "")
    return float(m.group(1)) * 1000 / MIB if m else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40,
                    help="requests timed per cipher and direction")
    ap.add_argument("--seconds", type=int, default=1,
                    help="openssl speed time per measurement")
    args = ap.parse_args()

    print(f"cgd sector ciphers, {REQUEST >> 20} MiB requests of 512-byte "
          f"sectors, median of {args.runs} runs; baseline: openssl speed -evp")
    head = f"{'cipher':<13} {'op':<8} {'rumptools':>10} {'openssl':>10} {'ratio':>6}"
    print(head)
    print("-" * len(head))
    for alg, bits, ossl in CASES:
        enc, dec = ours(alg, bits, args.runs)
        for op, mine, decrypt in (("encrypt", enc, False),
                                  ("decrypt", dec, True)):
            base = openssl(ossl, decrypt, args.seconds)
            base_s = f"{base:10.0f}" if base else f"{'n/a':>10}"
            ratio = f"{mine / base:6.2f}" if base else f"{'n/a':>6}"
            print(f"{alg + '-' + str(bits):<13} {op:<8} {mine:10.0f} "
                  f"{base_s} {ratio}")
    print("(MiB/s)")


if __name__ == "__main__":
    main()
