"""cgdconfig(8) parameters files: parse, check and emit (specs/cgd.md s. 6-7).

Pure and light (no crypto, no I/O): the algorithm tables live here, as in
cgdconfig's params.c, and rumptools.crypto re-exports them.

Grammar, as cgdconfig's lexer sees it: statements end with ';' or a newline;
'#' starts a comment; backslash-newline joins lines; "..." is one word; a
base64 value may be split over several words.  A keygen takes one statement
(`keygen storedkey key AAAA...;`) or a braced block of them.  Binary values
use the "bits" encoding: base64 of a 4-byte big-endian bit count + the bytes.
Every error is a ParamsError whose message starts with `line N: `.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field


class ParamsError(ValueError):
    """A parameters file cgdconfig would refuse."""


ALGORITHMS = ("aes-cbc", "aes-xts", "3des-cbc", "blowfish-cbc", "adiantum")
KEYLENGTHS: dict[str, tuple[int, ...]] = {
    "aes-cbc": (128, 192, 256),
    "aes-xts": (256, 512),
    "3des-cbc": (192,),
    "blowfish-cbc": tuple(range(40, 449, 8)),
    "adiantum": (256,),
}
DEFAULT_KEYLEN: dict[str, int] = {
    "aes-cbc": 128, "aes-xts": 256, "3des-cbc": 192,
    "blowfish-cbc": 128, "adiantum": 256,
}
BLOCK_BITS: dict[str, int] = {
    "aes-cbc": 128, "aes-xts": 128, "3des-cbc": 64, "blowfish-cbc": 64,
}
IVMETHODS = ("encblkno1", "encblkno8", "encblkno")
KEYGEN_METHODS = ("pkcs5_pbkdf2/sha1", "pkcs5_pbkdf2", "argon2id",
                  "storedkey", "randomkey", "urandomkey", "shell_cmd")
VERIFY_METHODS = ("none", "disklabel", "mbr", "gpt", "ffs", "re-enter")
SHARED_ALGORITHMS = ("hkdf-hmac-sha256",)
DEPRECATED_ITERATIONS = 128
WRAP_COL = 50


@dataclass
class KeyGen:
    """One `keygen` statement; the cgd key is the XOR of all of them."""
    method: str
    iterations: int | None = None
    salt: bytes | None = None
    key: bytes | None = None
    cmd: str | None = None
    memory: int | None = None          # argon2id, KiB
    parallelism: int | None = None
    version: int | None = None
    shared_name: str | None = None     # key = HKDF-Expand(output, info)
    shared_alg: str | None = None
    shared_info: bytes | None = None
    line: int = field(default=0, compare=False)


@dataclass
class Params:
    algorithm: str
    ivmethod: str = "encblkno1"
    keylength: int = 0                 # bits
    blocksize: int | None = None       # bits, only if given
    verify_method: str = "none"
    keygens: list[KeyGen] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list, compare=False)


# --- the "bits" encoding ---------------------------------------------------

def bits_encode(data: bytes, nbits: int | None = None) -> str:
    """Base64 of BE32(bit count) + data."""
    nbits = len(data) * 8 if nbits is None else nbits
    return base64.b64encode(nbits.to_bytes(4, "big") + data).decode("ascii")


def bits_decode(text: str) -> bytes:
    """The bytes of a bits-encoded value (ceil(count/8) of them)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ParamsError(f'bits_decode: invalid base64 "{text}"') from None
    if len(raw) < 4:
        raise ParamsError(f"bits_decode: value too short ({len(raw)} bytes)")
    nbits = int.from_bytes(raw[:4], "big")
    if nbits > (len(raw) - 4) * 8:
        raise ParamsError(
            "bits_decode: encoded bits claim to be longer than they are "
            f"(nbits={nbits}, stream len={len(raw)} bytes)")
    return raw[4:4 + (nbits + 7) // 8]


# --- lexer -----------------------------------------------------------------

_SEP = ";"        # a newline is turned into this too
_SPECIAL = set(';{}#"')


@dataclass
class _Tok:
    kind: str      # "word", "string", ";", "{", "}", "eof"
    text: str
    line: int


def _tokens(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and text.startswith("\n", i + 1):
            i, line = i + 2, line + 1
        elif c == "\\" and text.startswith("\r\n", i + 1):
            i, line = i + 3, line + 1
        elif c == "\n":
            toks.append(_Tok(_SEP, "\n", line))
            i, line = i + 1, line + 1
        elif c in " \t\r\f\v":
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in ";{}":
            toks.append(_Tok(c, c, line))
            i += 1
        elif c == '"':
            end = text.find('"', i + 1)
            if end < 0 or "\n" in text[i + 1:end]:
                raise ParamsError(f"line {line}: unterminated string")
            toks.append(_Tok("string", text[i + 1:end], line))
            i = end + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _SPECIAL \
                    and not (text[j] == "\\" and text.startswith("\n", j + 1)):
                j += 1
            if j == i:              # a lone backslash
                j = i + 1
            toks.append(_Tok("word", text[i:j], line))
            i = j
    toks.append(_Tok("eof", "", line))
    return toks


# --- parser ----------------------------------------------------------------

class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.pos = 0
        self.p = Params(algorithm="")
        self.lines: dict[str, int] = {}        # keyword -> line it was set
        self.dep: dict[str, object] = {}       # deprecated keygen_* pieces

    def peek(self) -> _Tok:
        return self.toks[self.pos]

    def take(self) -> _Tok:
        t = self.toks[self.pos]
        self.pos += 1
        return t

    def values(self) -> list[_Tok]:
        """Words and strings up to the end of the statement."""
        out = []
        while self.peek().kind in ("word", "string"):
            out.append(self.take())
        return out

    def end_statement(self, kw: _Tok) -> None:
        t = self.peek()
        if t.kind in (_SEP, "}", "eof"):
            if t.kind == _SEP:
                self.take()
            return
        raise ParamsError(f'line {t.line}: unexpected "{t.text}" after '
                          f'"{kw.text}"')

    def one(self, kw: _Tok) -> str:
        vals = self.values()
        if len(vals) != 1:
            what = "a value" if not vals else f'one value, not "{vals[1].text}"'
            raise ParamsError(f'line {kw.line}: {kw.text}: expected {what}')
        return vals[0].text

    def integer(self, kw: _Tok) -> int:
        v = self.one(kw)
        if not v.isdigit():
            raise ParamsError(f'line {kw.line}: {kw.text}: expected an '
                              f'integer, got "{v}"')
        return int(v)

    def b64(self, kw: _Tok) -> bytes:
        vals = self.values()
        if not vals:
            raise ParamsError(f"line {kw.line}: {kw.text}: expected a value")
        try:
            return bits_decode("".join(v.text for v in vals))
        except ParamsError as e:
            raise ParamsError(f"line {kw.line}: {kw.text}: {e}") from None

    def parse(self) -> Params:
        while self.peek().kind != "eof":
            t = self.take()
            if t.kind == _SEP:
                continue
            if t.kind != "word":
                raise ParamsError(f'line {t.line}: unexpected "{t.text}"')
            self.statement(t)
        return self.p

    def statement(self, kw: _Tok) -> None:
        p, name = self.p, kw.text
        if name == "algorithm":
            p.algorithm = self.one(kw)
        elif name == "iv-method":
            p.ivmethod = self.one(kw)
        elif name == "keylength":
            p.keylength = self.integer(kw)
        elif name == "blocksize":
            p.blocksize = self.integer(kw)
        elif name == "verify_method":
            p.verify_method = self.one(kw)
        elif name == "keygen":
            p.keygens.append(self.keygen(kw))
            return
        elif name == "keygen_method":
            self.dep["method"] = self.one(kw)
        elif name == "keygen_salt":
            self.dep["salt"] = self.b64(kw)
        elif name == "keygen_iterations":
            self.dep["iterations"] = self.integer(kw)
        elif name == "xor_key":
            p.keygens.append(KeyGen("storedkey", key=self.b64(kw),
                                    line=kw.line))
        else:
            raise ParamsError(f'line {kw.line}: unknown keyword "{name}"')
        self.lines[name] = kw.line
        self.end_statement(kw)

    def keygen(self, kw: _Tok) -> KeyGen:
        vals = self.values()
        if not vals:
            raise ParamsError(f"line {kw.line}: keygen: expected a method")
        kg = KeyGen(vals[0].text, line=kw.line)
        if len(vals) > 1:                       # keygen <method> <stmt>;
            self.pos -= len(vals) - 1
            self.kg_statement(kg, self.take())
        elif self.peek().kind == "{":
            self.take()
            while True:
                t = self.take()
                if t.kind == "}":
                    break
                if t.kind == "eof":
                    raise ParamsError(f"line {kw.line}: keygen block not "
                                      f"closed")
                if t.kind == _SEP:
                    continue
                if t.kind != "word":
                    raise ParamsError(f'line {t.line}: unexpected "{t.text}"')
                self.kg_statement(kg, t)
        self.end_statement(kw)
        return kg

    def kg_statement(self, kg: KeyGen, kw: _Tok) -> None:
        name = kw.text
        if name == "salt":
            kg.salt = self.b64(kw)
        elif name == "key":
            kg.key = self.b64(kw)
        elif name in ("iterations", "memory", "parallelism", "version"):
            setattr(kg, name, self.integer(kw))
        elif name == "cmd":
            kg.cmd = self.one(kw)
        elif name == "shared":
            kg.shared_name = self.one_word(kw)
            alg = self.take()
            if alg.text != "algorithm":
                raise ParamsError(f'line {alg.line}: shared: expected '
                                  f'"algorithm", got "{alg.text}"')
            kg.shared_alg = self.one_word(alg)
            sub = self.take()
            if sub.text != "subkey":
                raise ParamsError(f'line {sub.line}: shared: expected '
                                  f'"subkey", got "{sub.text}"')
            kg.shared_info = self.b64(sub)
        else:
            raise ParamsError(f'line {kw.line}: unknown keyword "{name}"')
        t = self.peek()
        if t.kind not in (_SEP, "}", "eof"):
            raise ParamsError(f'line {t.line}: unexpected "{t.text}"')

    def one_word(self, kw: _Tok) -> str:
        t = self.take()
        if t.kind not in ("word", "string"):
            raise ParamsError(f"line {kw.line}: {kw.text}: expected a value")
        return t.text


def parse_params(text: str) -> Params:
    """Parse and check a parameters file; warnings go to Params.warnings."""
    ps = _Parser(text)
    p = ps.parse()
    last = ps.toks[-1].line
    if ps.dep:
        method = ps.dep.get("method")
        if method is None:
            raise ParamsError(f"line {last}: keygen_salt/keygen_iterations "
                              "without keygen_method")
        p.keygens.append(KeyGen(
            str(method), salt=ps.dep.get("salt"),  # type: ignore[arg-type]
            iterations=ps.dep.get("iterations", DEPRECATED_ITERATIONS),
            line=ps.lines.get("keygen_method", last)))
    check_params(p, ps.lines, last)
    return p


def check_params(p: Params, lines: dict[str, int] | None = None,
                 last: int = 0) -> None:
    """Fill defaults and refuse what cgdconfig refuses (see parse_params)."""
    lines = lines or {}

    def err(kw: str, msg: str):
        return ParamsError(f"line {lines.get(kw, last)}: {msg}")

    if not p.algorithm:
        raise err("algorithm", "no algorithm specified")
    known = p.algorithm in KEYLENGTHS
    if not known:
        p.warnings.append(f'unknown algorithm "{p.algorithm}"(warning)')
    if p.ivmethod not in IVMETHODS:
        p.warnings.append(f'unknown iv-method "{p.ivmethod}"(warning)')
    if not p.keylength:
        if not known:
            raise err("algorithm", "could not determine key length for "
                      f'unknown algorithm "{p.algorithm}"')
        p.keylength = DEFAULT_KEYLEN[p.algorithm]
    elif known and p.keylength not in KEYLENGTHS[p.algorithm]:
        raise err("keylength", f"keylength {p.keylength} is not valid for "
                  f'algorithm "{p.algorithm}"')
    if p.blocksize is not None and p.algorithm in BLOCK_BITS \
            and p.blocksize != BLOCK_BITS[p.algorithm]:
        raise err("blocksize", f"blocksize {p.blocksize} is not valid for "
                  f'algorithm "{p.algorithm}"')
    if p.verify_method not in VERIFY_METHODS:
        raise err("verify_method", "params_setverify_method: unrecognized "
                  f'verify method "{p.verify_method}"')
    if not p.keygens:
        raise ParamsError(f"line {last}: missing keygen statement")
    for kg in p.keygens:
        _check_keygen(kg, p.keylength, kg.line or last)


_NEEDS = {
    "pkcs5_pbkdf2/sha1": ("iterations", "salt"),
    "pkcs5_pbkdf2": ("iterations", "salt"),
    "argon2id": ("iterations", "memory", "parallelism", "version", "salt"),
    "storedkey": ("key",),
    "shell_cmd": ("cmd",),
}


# What the key derivation functions accept (PKCS #5 counts in a C int; the
# Argon2 reference limits: 32-bit passes and KiB, 2^24 - 1 lanes).
_LIMITS = {
    "pkcs5_pbkdf2/sha1": (("iterations", 1, (1 << 31) - 1),),
    "pkcs5_pbkdf2": (("iterations", 1, (1 << 31) - 1),),
    "argon2id": (("iterations", 1, (1 << 32) - 1), ("parallelism", 1, (1 << 24) - 1),
                 ("memory", 8, (1 << 32) - 1)),
}


def _check_keygen(kg: KeyGen, keylength: int, line: int) -> None:
    if kg.method not in KEYGEN_METHODS:
        raise ParamsError(f'line {line}: unknown keygen method "{kg.method}"')
    for attr in _NEEDS.get(kg.method, ()):
        if getattr(kg, attr) is None:
            raise ParamsError(f"line {line}: keygen {kg.method}: missing "
                              f"{attr}")
    if kg.iterations is not None and kg.iterations < 1:
        raise ParamsError(f"line {line}: keygen {kg.method}: iterations "
                          "must be positive")
    for attr, low, high in _LIMITS.get(kg.method, ()):
        value = getattr(kg, attr)
        if attr == "memory" and kg.parallelism is not None:
            low = max(low, 8 * kg.parallelism)      # argon2: 8 KiB per lane at least
        if value is not None and not low <= value <= high:
            raise ParamsError(f"line {line}: keygen {kg.method}: {attr} "
                              f"{value} out of range ({low} to {high})")
    if kg.method == "storedkey" and len(kg.key) * 8 != keylength:
        raise ParamsError(f"line {line}: keygen storedkey: key is "
                          f"{len(kg.key) * 8} bits, keylength is {keylength}")
    if kg.shared_name is not None and kg.shared_alg not in SHARED_ALGORITHMS:
        raise ParamsError(f"line {line}: keygen {kg.method}: unknown shared "
                          f'key algorithm "{kg.shared_alg}"')


# --- emitter ---------------------------------------------------------------

def _wrapped(prefix: str, value: str) -> str:
    """prefix + value, wrapped as cgdconfig does once past column 50."""
    start = len(prefix)
    limit = max(WRAP_COL, start + 15)      # a long prefix still gets 16/line
    out, col = [prefix], start
    for ch in value:
        if col > limit:
            out.append(" \\\n" + " " * start)
            col = start
        out.append(ch)
        col += 1
    return "".join(out)


def _format_keygen(kg: KeyGen) -> str:
    head = f"keygen {kg.method}"
    if kg.method in ("randomkey", "urandomkey") and kg.shared_name is None:
        return head + ";"
    if kg.method == "storedkey" and kg.shared_name is None:
        return _wrapped(head + " key ", bits_encode(kg.key)) + ";"
    ind = " " * 8
    body = []
    for attr in ("iterations", "memory", "parallelism", "version"):
        if getattr(kg, attr) is not None:
            body.append(f"{ind}{attr} {getattr(kg, attr)};")
    for attr in ("salt", "key"):
        if getattr(kg, attr) is not None:
            body.append(_wrapped(f"{ind}{attr} ",
                                 bits_encode(getattr(kg, attr))) + ";")
    if kg.cmd is not None:
        body.append(f'{ind}cmd "{kg.cmd}";')
    if kg.shared_name is not None:
        body.append(f'{ind}shared "{kg.shared_name}" algorithm '
                    f"{kg.shared_alg} \\\n"
                    + _wrapped(f"{ind}    subkey ",
                               bits_encode(kg.shared_info or b"")) + ";")
    return "\n".join([head + " {", *body, "};"])


def format_params(p: Params) -> str:
    """The file text, laid out as `cgdconfig -g` prints it."""
    out = [f"algorithm {p.algorithm};",
           f"iv-method {p.ivmethod};",
           f"keylength {p.keylength};"]
    if p.blocksize is not None:
        out.append(f"blocksize {p.blocksize};")
    out.append(f"verify_method {p.verify_method};")
    out += [_format_keygen(kg) for kg in p.keygens]
    return "\n".join(out) + "\n"
