"""rump.cgdconfig's modes that need no rump kernel: -g (a new params file),
-G (a new params file for the same key), -t and -T (print keys).

Testing aid: RUMPTOOLS_CGD_CALIBRATE_US=<microseconds> makes -g and -G
calibrate PBKDF2 for that much CPU time instead of about one second, and
accept any result within a factor of two of it (tests want speed, not
precision).
"""
import os

from ..formats.cgdparams import (KEYLENGTHS, KeyGen, ParamsError,
                                 check_params, format_params)
from .cgdconfig_keys import (Fail, Usage, default_keylen, derive, key_b64,
                             load_params, out, params_path, parse_keylen,
                             show_warnings, strerror)

RANDOM_METHODS = ("randomkey", "urandomkey")
PBKDF2_METHODS = ("pkcs5_pbkdf2/sha1", "pkcs5_pbkdf2")
CALIBRATE_ENV = "RUMPTOOLS_CGD_CALIBRATE_US"


def _calibrated(keylen):
    from ..crypto.cgd_keygen import (CALIBRATE_TARGET_US, KeygenError,
                                     calibrate_iterations)
    target, tolerance = CALIBRATE_TARGET_US, 0.05
    env = os.environ.get(CALIBRATE_ENV)
    if env:
        try:
            target, tolerance = float(env), 0.5
        except ValueError:
            raise Fail("%s: not a number: %s" % (CALIBRATE_ENV, env))
    # CPU time jitters on a busy host: one more round before giving up.
    for _ in range(2):
        try:
            return calibrate_iterations(keylen, target, tolerance=tolerance)
        except KeygenError as e:
            last = e
    raise Fail(str(last))


def _new_keygens(alg, keylen, ivmethod, methods, verify, blocksize):
    from ..crypto.cgd_keygen import KeygenError, generate_params
    keygens = []
    p = None
    for m in methods:
        iterations = _calibrated(keylen) if m in PBKDF2_METHODS else None
        try:
            p = generate_params(alg, keylen, ivmethod, m, verify, blocksize,
                                iterations=iterations)
        except KeygenError as e:
            raise Fail(str(e))
        keygens += p.keygens
    p.keygens = keygens
    return p


def write_params(p, outfile):
    """The params file text to stdout, or to outfile created mode 0600."""
    text = format_params(p)
    if not outfile:
        out(text)
        return
    try:
        fd = os.open(outfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as e:
        raise Fail('could not open outfile "%s": %s' % (outfile, strerror(e)))
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(text)


def generate(opts, args):
    """-g alg [keylen]: print a new params file."""
    if not 1 <= len(args) <= 2:
        raise Usage()
    alg = args[0]
    keylen = parse_keylen(args[1]) if len(args) > 1 else None
    keylen = default_keylen(alg, keylen)
    if alg not in KEYLENGTHS:
        raise Fail('unknown algorithm "%s"' % alg)
    if opts.bad_keygen:
        raise Fail("Failed to generate defaults for keygen")
    p = _new_keygens(alg, keylen, opts.ivmethod, opts.keygens or
                     ["pkcs5_pbkdf2/sha1"], opts.verify or "none",
                     opts.blocksize)
    write_params(p, opts.outfile)


def generate_convert(opts, args, pw):
    """-G paramsfile: new params, same key (a storedkey makes up the rest)."""
    if len(args) != 1:
        raise Usage()
    if any(m in RANDOM_METHODS for m in opts.keygens):
        raise Fail("can't preserve randomly generated key")
    if opts.bad_keygen:
        raise Fail("Failed to generate defaults for keygen")
    old = load_params(args[0])
    if any(kg.method in RANDOM_METHODS for kg in old.keygens):
        raise Fail("can't preserve randomly generated key")
    show_warnings(old)
    oldkey, _ = derive(old, pw, "old file")
    # Algorithm, key length, block size and IV method come from the old file:
    # anything else would not decrypt the same disk.
    new = _new_keygens(old.algorithm, old.keylength, old.ivmethod,
                       opts.keygens or ["pkcs5_pbkdf2/sha1"],
                       opts.verify or old.verify_method, old.blocksize)
    newkey, _ = derive(new, pw, "new file")
    new.keygens.append(KeyGen("storedkey",
                              key=bytes(a ^ b for a, b in zip(newkey, oldkey))))
    try:
        check_params(new)
    except ParamsError as e:
        from ._cli import warn
        warn(str(e).removeprefix("line 0: "))
        raise Fail("can't generate new parameters file")
    write_params(new, opts.outfile)


def printkey(opts, args, pw):
    """-t paramsfile: print the key it generates, in base64."""
    if len(args) != 1:
        raise Usage()
    p = load_params(args[0])
    show_warnings(p)
    key, _ = derive(p, pw, args[0])
    out(key_b64(key) + "\n")


def printkey_line(opts, words, pw, cache):
    """One cgd.conf line for -T: `<target>: <base64 key>`."""
    if not 2 <= len(words) <= 3:
        raise Fail()
    dev = words[1]
    p = load_params(params_path(dev, words[2] if len(words) > 2 else None))
    show_warnings(p)
    key, _ = derive(p, pw, dev, cache)
    out("%s: %s\n" % (dev, key_b64(key)))
