"""rump.cgdconfig's host side: passphrases, params files, keys, cgd.conf.

Everything here runs on the host: params files and cgd.conf are host files,
passphrases come from the host's terminal or standard input.  Imports stay
light (hashlib via cgd_keygen, the pure params module); nothing here loads
numpy or `cryptography` unless a params file asks for Argon2id.

Where a passphrase comes from (as cgdconfig's getpass/-p):
  -p                      one line of standard input per passphrase, no prompt
  stdin is a terminal     the prompt on /dev/tty, read without echo (-e: echo)
  otherwise               the prompt on stderr, one line of standard input
Only the terminal case may ask again after a failed verification.
"""
import base64
import dataclasses
import os
import sys

from ..formats.cgdparams import (DEFAULT_KEYLEN, ParamsError, check_params,
                                 parse_params)
from ..abi import errnos

CGD_DIR = "/etc/cgd"
CGD_CONF = CGD_DIR + "/cgd.conf"
PASSPHRASE_METHODS = ("pkcs5_pbkdf2/sha1", "pkcs5_pbkdf2", "argon2id")
MAX_PASSPHRASE = 1023               # cgdconfig -p reads lines into 1024 bytes


class Fail(Exception):
    """Stop this action: print `prog: message` (if any) and exit with `status`.

    NetBSD's cgdconfig returns -1 from a failed action, so it exits 255; a
    failed CGDIOCSET returns the errno; err(3) calls exit 1.
    """

    def __init__(self, message=None, status=255):
        super().__init__(message)
        self.message = message
        self.status = status


class Usage(Exception):
    """Print the usage text and exit 1."""


def strerror(exc):
    return errnos.host_text(exc)


def out(text):
    """Write to stdout now, so it interleaves with stderr as it happens."""
    sys.stdout.write(text)
    sys.stdout.flush()


def stdin_bytes():
    return getattr(sys.stdin, "buffer", sys.stdin)


# --------------------------------------------------------------- passphrases

def _stdin_is_tty():
    try:
        return os.isatty(sys.stdin.fileno())
    except (AttributeError, ValueError, OSError):
        return False


def _read_tty(prompt, echo):
    """A line from the controlling terminal; None at end of file."""
    if not echo:
        import getpass
        try:
            return getpass.getpass(prompt)
        except EOFError:
            return None
    with open("/dev/tty", "r+") as tty:
        tty.write(prompt)
        tty.flush()
        line = tty.readline()
    return line.rstrip("\n") if line else None


class Passphrases:
    """Reads passphrases the way the command line asked (see the top)."""

    def __init__(self, from_stdin=False, echo=False):
        self.from_stdin = from_stdin
        self.echo = echo

    @property
    def interactive(self):
        return not self.from_stdin and _stdin_is_tty()

    def get(self, target):
        prompt = "%s's passphrase:" % target
        if self.from_stdin:
            line = stdin_bytes().readline(MAX_PASSPHRASE + 1)
        elif _stdin_is_tty():
            try:
                text = _read_tty(prompt, self.echo)
            except OSError:             # no controlling terminal after all
                sys.stderr.write(prompt + "\n")
                line = stdin_bytes().readline()
            else:
                line = (None if text is None
                        else text.encode("utf-8", "surrogateescape"))
        else:
            sys.stderr.write(prompt + "\n")
            sys.stderr.flush()
            line = stdin_bytes().readline()
        if not line:
            raise Fail("failed to read passphrase", status=1)     # err(1, ...)
        if isinstance(line, str):
            line = line.encode("utf-8", "surrogateescape")
        return line.split(b"\n", 1)[0]


# --------------------------------------------------------------- params files

def params_path(dev, given=None):
    """The params file of a configure line: given, or /etc/cgd/<basename>."""
    return given if given else "%s/%s" % (CGD_DIR, os.path.basename(dev))


def read_params_text(path):
    """Read a host params file; a relative name not found is tried in /etc/cgd."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "surrogateescape")
    except FileNotFoundError as e:
        first = e
    except OSError as e:
        raise Fail('failed to open params file "%s": %s' % (path, strerror(e)))
    if not os.path.isabs(path):
        try:
            with open(os.path.join(CGD_DIR, path), "rb") as f:
                return f.read().decode("utf-8", "surrogateescape")
        except OSError:
            pass
    raise Fail('failed to open params file "%s": %s' % (path, strerror(first)))


def _without_line0(exc):
    return str(exc).removeprefix("line 0: ")


def load_params(path, ivmethod=None, verify=None, blocksize=None):
    """Parse a params file and apply the command line's -i, -V and -b."""
    text = read_params_text(path)
    try:
        p = parse_params(text)
    except ParamsError as e:
        raise Fail("%s: %s" % (path, e))
    if ivmethod is None and verify is None and blocksize is None:
        return p
    if ivmethod is not None:
        p.ivmethod = ivmethod
    if verify is not None:
        p.verify_method = verify
    if blocksize is not None:
        p.blocksize = blocksize
    p.warnings = []
    try:
        check_params(p)
    except ParamsError as e:
        from ._cli import warn
        warn(_without_line0(e))
        raise Fail("params invalid")
    return p


def show_warnings(p):
    from ._cli import warn
    for w in p.warnings:
        warn(w)


# --------------------------------------------------------------- keys

def uses_passphrase(p):
    return any(kg.method in PASSPHRASE_METHODS for kg in p.keygens)


def _one(p, kg, getter, cache):
    from ..crypto.cgd_keygen import KeygenError, derive_key
    try:
        return derive_key(dataclasses.replace(p, keygens=[kg]), getter,
                          shared_cache=cache)
    except KeygenError as e:
        raise Fail(str(e))
    except OSError as e:
        raise Fail("keygen %s: %s" % (kg.method, strerror(e)))


def derive(p, pw, target, cache=None):
    """The cgd key and what each keygen gave (for re-enter verification).

    A `shared` keygen is evaluated once per cache: pass one dict for a run.
    """
    cache = {} if cache is None else cache
    parts = [_one(p, kg, lambda: pw.get(target), cache) for kg in p.keygens]
    key = bytes(p.keylength // 8)
    for part in parts:
        key = bytes(a ^ b for a, b in zip(key, part))
    return key, parts


def forget_shared(p, cache):
    """After a wrong passphrase, make shared keygens ask again."""
    for kg in p.keygens:
        if kg.shared_name is not None:
            cache.pop(kg.shared_name, None)


def reenter_matches(p, parts, pw):
    """verify_method re-enter: each passphrase keygen again, same result?"""
    for kg, part in zip(p.keygens, parts):
        if kg.method not in PASSPHRASE_METHODS:
            continue
        if _one(p, kg, lambda: pw.get("re-enter device"), {}) != part:
            return False
    return True


def key_b64(key):
    return base64.b64encode(key).decode("ascii")


# --------------------------------------------------------------- numbers

def parse_int(text):
    """A number as cgdconfig's parse_size_t reads it (strtol, int range)."""
    s = text.lstrip()
    sign = s[:1] if s[:1] in ("+", "-") else ""
    digits = s[len(sign):]
    n = len(digits) - len(digits.lstrip("0123456789"))
    if n == 0:
        return None
    value = int(sign + digits[:n])
    return value if -2**31 <= value < 2**31 else None


def parse_keylen(text):
    value = parse_int(text)
    if value is None:
        raise Fail("failed to parse key length: Invalid argument")
    return value


def default_keylen(alg, keylen):
    if keylen is not None:
        return keylen
    if alg not in DEFAULT_KEYLEN:
        raise Fail('could not determine key length for unknown algorithm "%s"'
                   % alg)
    return DEFAULT_KEYLEN[alg]


# --------------------------------------------------------------- cgd.conf

def conf_lines(text):
    """(line number, words) of each non-empty cgd.conf line.

    As fparseln(3): `#` starts a comment, a backslash at the end of a line
    continues it, `\\#` and `\\\\` stand for themselves; the number given is
    that of the last physical line.
    """
    cur = []
    lineno = 0
    for lineno, raw in enumerate(text.split("\n"), 1):
        i, n, cont = 0, len(raw), False
        while i < n:
            ch = raw[i]
            if ch == "\\" and i + 1 < n:
                cur.append("\0" + raw[i + 1])     # escaped: never special
                i += 2
            elif ch == "\\":                      # at the end: continue
                cont = True
                break
            elif ch == "#":
                break
            else:
                cur.append(ch)
                i += 1
        if cont:
            continue
        words = [w.replace("\0", "") for w in "".join(cur).split()]
        cur = []
        if words:
            yield lineno, words
    words = [w.replace("\0", "") for w in "".join(cur).split()]
    if words:
        yield lineno, words


def read_conf(cfile):
    fn = cfile or CGD_CONF
    try:
        with open(fn, "rb") as f:
            return fn, f.read().decode("utf-8", "surrogateescape")
    except OSError as e:
        raise Fail('could not open config file "%s": %s' % (fn, strerror(e)))
