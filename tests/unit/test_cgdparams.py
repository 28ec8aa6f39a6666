"""cgdconfig parameters files: parsing, checking, emitting, round trips."""

import base64
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rumptools.crypto.cgd_keygen import generate_params
from rumptools.formats.cgdparams import (DEFAULT_KEYLEN, KEYLENGTHS, KeyGen,
                                         Params, ParamsError, bits_decode,
                                         bits_encode, format_params,
                                         parse_params)

TUTORIAL = """algorithm aes-cbc;
iv-method encblkno1;
keylength 128;
verify_method none;
keygen pkcs5_pbkdf2/sha1 {
        iterations 325176;
        salt AAAAgGc4DWwqXN4t0eapskSLWTs=;
};
"""

SPEC_EXAMPLE = TUTORIAL.replace("325176", "39361").replace(
    "AAAAgGc4DWwqXN4t0eapskSLWTs=", "AAAAgMoHiYonye6KogdYJAobCHE=")

STORED = """algorithm adiantum;
iv-method encblkno1;
keylength 256;
verify_method none;
keygen storedkey key AAABAJtnmp3XZspMBAFpCYnB8Hekn0 \\
                     gj5cDVngslfGLSqwcy;
"""


def test_tutorial_params_file():
    p = parse_params(TUTORIAL)
    assert p == Params("aes-cbc", "encblkno1", 128, None, "none", [KeyGen(
        "pkcs5_pbkdf2/sha1", iterations=325176,
        salt=base64.b64decode("AAAAgGc4DWwqXN4t0eapskSLWTs=")[4:])])
    assert len(p.keygens[0].salt) == 16
    assert p.keygens[0].line == 5
    assert p.warnings == []
    assert len(TUTORIAL) == 175            # the size fsu_ls shows
    assert format_params(p) == TUTORIAL


@pytest.mark.parametrize("text", [SPEC_EXAMPLE, STORED])
def test_emitted_text_round_trips_exactly(text):
    assert format_params(parse_params(text)) == text


def test_layout_rules():
    p = Params("aes-xts", "encblkno1", 512, 128, "gpt",
               [KeyGen("randomkey"), KeyGen("urandomkey"),
                KeyGen("storedkey", key=bytes(range(64)))])
    text = format_params(p)
    lines = text.splitlines()
    assert lines[:5] == ["algorithm aes-xts;", "iv-method encblkno1;",
                         "keylength 512;", "blocksize 128;",
                         "verify_method gpt;"]
    assert lines[5:7] == ["keygen randomkey;", "keygen urandomkey;"]
    # a long base64 value wraps once past column 50, aligned under itself
    assert lines[7].startswith("keygen storedkey key ")
    assert lines[7].endswith(" \\") and len(lines[7]) == 51 + 2
    for cont in lines[8:]:
        assert cont.startswith(" " * 21) and not cont.startswith(" " * 22)
    assert parse_params(text) == p
    assert "blocksize" not in format_params(parse_params(TUTORIAL))


def test_grammar_freedoms():
    text = """# a comment line
algorithm "aes-cbc"; keylength 256   # trailing comment
keygen pkcs5_pbkdf2/sha1 { iterations 7; salt AAAAgAAA \\
    AAAAAAAAAAAAAAAAAAAA; }
keygen storedkey key KEY
keygen shell_cmd { cmd "cat /etc/key file"; };

verify_method mbr
""".replace("KEY", bits_encode(bytes(32)))
    p = parse_params(text)
    assert (p.algorithm, p.keylength, p.ivmethod, p.verify_method) == (
        "aes-cbc", 256, "encblkno1", "mbr")
    assert [k.method for k in p.keygens] == [
        "pkcs5_pbkdf2/sha1", "storedkey", "shell_cmd"]
    assert p.keygens[0].salt == bytes(16) and p.keygens[0].iterations == 7
    assert p.keygens[1].key == bytes(32)
    assert p.keygens[2].cmd == "cat /etc/key file"
    assert [k.line for k in p.keygens] == [3, 5, 6]
    assert parse_params(format_params(p)) == p


def test_base64_split_over_words_and_lines():
    one = parse_params(STORED)
    joined = parse_params(STORED.replace("\\\n", ""))
    split = parse_params(STORED.replace("Hekn0 \\\n", "He kn0 \\\n"
                                        ).replace("gj5c", "gj5c \\\n  "))
    assert one == joined == split
    assert one.keygens[0].key.hex().startswith("9b679a9dd766ca4c")


def test_defaults():
    p = parse_params("algorithm aes-xts\nkeygen randomkey\n")
    assert (p.ivmethod, p.keylength, p.verify_method, p.blocksize) == (
        "encblkno1", 256, "none", None)
    for alg, bits in DEFAULT_KEYLEN.items():
        assert parse_params(f"algorithm {alg}; keygen randomkey;"
                            ).keylength == bits


def test_deprecated_keywords():
    p = parse_params("""algorithm blowfish-cbc
keygen_method pkcs5_pbkdf2
keygen_salt AAAAgAAAAAAAAAAAAAAAAAAAAAA=
xor_key AAAAgP8AAAAAAAAAAAAAAAAAAAA=
""")
    assert p.keylength == 128
    stored, dep = p.keygens
    assert stored == KeyGen("storedkey", key=b"\xff" + bytes(15))
    assert dep == KeyGen("pkcs5_pbkdf2", iterations=128, salt=bytes(16))
    p = parse_params("algorithm aes-cbc; keygen_iterations 99; "
                     "keygen_method pkcs5_pbkdf2/sha1; "
                     "keygen_salt AAAAEAAA;")
    assert p.keygens == [KeyGen("pkcs5_pbkdf2/sha1", iterations=99,
                                salt=b"\0\0")]


def test_shared_keygen_statement():
    p = parse_params("""algorithm aes-cbc; keylength 256;
keygen pkcs5_pbkdf2/sha1 {
        iterations 5;
        salt AAAAEAAA;
        shared "home disks" algorithm hkdf-hmac-sha256 \\
            subkey AAAAGAECAw==;
};
""")
    kg = p.keygens[0]
    assert (kg.shared_name, kg.shared_alg, kg.shared_info) == (
        "home disks", "hkdf-hmac-sha256", b"\1\2\3")
    assert parse_params(format_params(p)) == p


def test_warnings_for_unknown_algorithm_and_ivmethod():
    p = parse_params("algorithm serpent-cbc; keylength 256;\n"
                     "iv-method encblkno9; keygen randomkey;")
    assert p.warnings == ['unknown algorithm "serpent-cbc"(warning)',
                          'unknown iv-method "encblkno9"(warning)']
    assert p.keylength == 256


BAD = [
    ("algorithm aes-cbc;\nkeylength 128;\nfoo bar;\nkeygen randomkey;",
     'line 3: unknown keyword "foo"'),
    ("algorithm aes-cbc\nkeygen pkcs5_pbkdf2/sha1 {\n iterations 10;\n"
     " salt AAAA*gAA;\n};", "line 4: salt: bits_decode: invalid base64"),
    ("algorithm aes-cbc\nkeygen pkcs5_pbkdf2/sha1 {\n iterations 10;\n"
     " salt AAAAgAAA;\n};",
     r"line 4: salt: bits_decode: encoded bits claim to be longer than they "
     r"are \(nbits=128, stream len=6 bytes\)"),
    ("algorithm aes-cbc;\n\nkeylength 100;\nkeygen randomkey;",
     'line 3: keylength 100 is not valid for algorithm "aes-cbc"'),
    ("algorithm aes-xts;\nkeylength 128;\nkeygen randomkey;",
     'line 2: keylength 128 is not valid for algorithm "aes-xts"'),
    ("algorithm aes-cbc;\niv-method encblkno1;\nverify_method none;\n",
     "line 4: missing keygen statement"),
    ("algorithm aes-cbc;\nverify_method sha256;\nkeygen randomkey;",
     'line 2: params_setverify_method: unrecognized verify method "sha256"'),
    ("algorithm twofish;\nkeygen randomkey;",
     'line 1: could not determine key length for unknown algorithm '
     '"twofish"'),
    ("algorithm aes-cbc;\nkeylength big;\nkeygen randomkey;",
     'line 2: keylength: expected an integer, got "big"'),
    ("algorithm aes-cbc;\nkeygen shell_cmd { cmd \"echo;\n};",
     "line 2: unterminated string"),
    ("algorithm aes-cbc;\n\nkeygen magic;", 'line 3: unknown keygen method '
     '"magic"'),
    ("algorithm aes-cbc;\nkeygen pkcs5_pbkdf2/sha1 {\n iterations 5;\n};",
     "line 2: keygen pkcs5_pbkdf2/sha1: missing salt"),
    ("algorithm aes-cbc;\nkeygen pkcs5_pbkdf2 { salt AAAAEAAA; };",
     "line 2: keygen pkcs5_pbkdf2: missing iterations"),
    ("algorithm aes-cbc;\nkeygen pkcs5_pbkdf2 { salt AAAAEAAA; "
     "iterations 0; };", "line 2: keygen pkcs5_pbkdf2: iterations must be"),
    ("algorithm aes-cbc;\nkeylength 192;\nkeygen storedkey key AAAAEAAA;",
     "line 3: keygen storedkey: key is 16 bits, keylength is 192"),
    ("algorithm aes-cbc;\nkeygen pkcs5_pbkdf2/sha1 {\n iterations 5;\n",
     "line 2: keygen block not closed"),
    ("algorithm aes-cbc;\nkeygen randomkey {\n\n  pepper 3;\n};",
     'line 4: unknown keyword "pepper"'),
    ("algorithm 3des-cbc;\nblocksize 128;\nkeygen randomkey;",
     'line 2: blocksize 128 is not valid for algorithm "3des-cbc"'),
    ("# nothing but\nkeygen randomkey;\n",
     "line 3: no algorithm specified"),
    ("algorithm aes-cbc;\nkeygen storedkey {\n key AAAAgAAAAAAAAAAAAAAAAAAAAAA=;"
     "\n shared x algorithm md5 subkey AAAAEAAA;\n};",
     'line 2: keygen storedkey: unknown shared key algorithm "md5"'),
    ("algorithm aes-cbc aes-xts;\nkeygen randomkey;",
     'line 1: algorithm: expected one value, not "aes-xts"'),
    ("algorithm aes-cbc;\n}\n", 'line 2: unexpected "}"'),
    ("algorithm aes-cbc;\nkeygen_salt AAAAEAAA;\nkeygen randomkey;\n",
     "line 4: keygen_salt/keygen_iterations without keygen_method"),
]


@pytest.mark.parametrize("text,msg", BAD)
def test_malformed_files_give_line_numbered_errors(text, msg):
    with pytest.raises(ParamsError, match=msg) as e:
        parse_params(text)
    assert re.match(r"line \d+: ", str(e.value))
    assert isinstance(e.value, ValueError)


def test_bits_encoding():
    assert bits_encode(b"\xff" * 2) == "AAAAEP//"
    assert bits_decode("AAAAEP//") == b"\xff\xff"
    assert bits_decode(bits_encode(b"abc", 20)) == b"abc"       # ceil(20/8)
    assert bits_decode(bits_encode(b"abcd", 16)) == b"ab"       # extra cut
    with pytest.raises(ParamsError, match=r"^bits_decode: encoded bits claim "
                       r"to be longer than they are \(nbits=40, stream len=8 "
                       r"bytes\)$"):
        bits_decode(base64.b64encode((40).to_bytes(4, "big") + b"abcd"
                                     ).decode())
    with pytest.raises(ParamsError, match="invalid base64"):
        bits_decode("AAAA=AAA")
    with pytest.raises(ParamsError, match="too short"):
        bits_decode("AAA=")


_salts = st.binary(min_size=1, max_size=40)
_keygens = st.one_of(
    st.builds(KeyGen, st.sampled_from(["pkcs5_pbkdf2/sha1", "pkcs5_pbkdf2"]),
              iterations=st.integers(1, 10**7), salt=_salts),
    st.builds(KeyGen, st.sampled_from(["randomkey", "urandomkey"])),
    st.builds(KeyGen, st.just("argon2id"), iterations=st.integers(1, 9),
              memory=st.integers(64, 1 << 20), parallelism=st.integers(1, 8),
              version=st.just(19), salt=_salts),
    st.builds(KeyGen, st.just("shell_cmd"),
              cmd=st.text("abc /-.$", min_size=1, max_size=30)),
    st.builds(KeyGen, st.just("pkcs5_pbkdf2/sha1"), iterations=st.just(3),
              salt=_salts, shared_name=st.text("xyz", min_size=1),
              shared_alg=st.just("hkdf-hmac-sha256"), shared_info=_salts),
)


@st.composite
def _params(draw):
    alg = draw(st.sampled_from(sorted(KEYLENGTHS)))
    keylen = draw(st.sampled_from(KEYLENGTHS[alg]))
    kgs = draw(st.lists(_keygens, min_size=1, max_size=3))
    if draw(st.booleans()):
        kgs.append(KeyGen("storedkey", key=draw(st.binary(
            min_size=keylen // 8, max_size=keylen // 8))))
    return Params(alg, draw(st.sampled_from(["encblkno1", "encblkno8",
                                             "encblkno"])), keylen,
                  None, draw(st.sampled_from(["none", "disklabel", "mbr",
                                              "gpt", "ffs", "re-enter"])),
                  kgs)


@settings(max_examples=150, deadline=None)
@given(_params())
def test_format_parse_round_trip(p):
    text = format_params(p)
    assert parse_params(text) == p
    assert format_params(parse_params(text)) == text


def test_generated_params_round_trip():
    p = generate_params("aes-cbc", iterations=4242)
    text = format_params(p)
    assert re.fullmatch(r"algorithm aes-cbc;\niv-method encblkno1;\n"
                        r"keylength 128;\nverify_method none;\n"
                        r"keygen pkcs5_pbkdf2/sha1 \{\n"
                        r" {8}iterations 4242;\n"
                        r" {8}salt AAAAg[A-Za-z0-9+/]{22}=;\n\};\n", text)
    assert parse_params(text) == p
