"""Character translation tables for dd's conv=ascii/ebcdic/ibm and the old* variants.

These are facts, not code: the byte mappings NetBSD's dd uses.  The POSIX
tables (ascii, ebcdic, ibm) are those of POSIX.2 draft 11 tables 4-3/4-4
and agree byte for byte with GNU dd's; the "32V" tables (oldascii,
oldebcdic, oldibm) are the historic AT&T 32V / pre-4.3BSD-Reno mappings.
Each table is a 256-byte ``bytes`` object usable with ``bytes.translate``.

The case tables map ASCII letters only (the C locale), and ``with_case``
builds the combined table dd uses when a case conversion is asked for
together with a character set conversion: the case mapping is applied to
the *result* of the character set mapping.
"""


def _table(hexrows):
    data = bytes.fromhex("".join(hexrows))
    assert len(data) == 256
    return data


# EBCDIC to ASCII, POSIX (conv=ascii) (row "n_" maps bytes 0xn0..0xnf)
E2A_POSIX = _table((
    "00 01 02 03 9c 09 86 7f 97 8d 8e 0b 0c 0d 0e 0f "  # 0_
    "10 11 12 13 9d 85 08 87 18 19 92 8f 1c 1d 1e 1f "  # 1_
    "80 81 82 83 84 0a 17 1b 88 89 8a 8b 8c 05 06 07 "  # 2_
    "90 91 16 93 94 95 96 04 98 99 9a 9b 14 15 9e 1a "  # 3_
    "20 a0 a1 a2 a3 a4 a5 a6 a7 a8 d5 2e 3c 28 2b 7c "  # 4_
    "26 a9 aa ab ac ad ae af b0 b1 21 24 2a 29 3b 7e "  # 5_
    "2d 2f b2 b3 b4 b5 b6 b7 b8 b9 cb 2c 25 5f 3e 3f "  # 6_
    "ba bb bc bd be bf c0 c1 c2 60 3a 23 40 27 3d 22 "  # 7_
    "c3 61 62 63 64 65 66 67 68 69 c4 c5 c6 c7 c8 c9 "  # 8_
    "ca 6a 6b 6c 6d 6e 6f 70 71 72 5e cc cd ce cf d0 "  # 9_
    "d1 e5 73 74 75 76 77 78 79 7a d2 d3 d4 5b d6 d7 "  # a_
    "d8 d9 da db dc dd de df e0 e1 e2 e3 e4 5d e6 e7 "  # b_
    "7b 41 42 43 44 45 46 47 48 49 e8 e9 ea eb ec ed "  # c_
    "7d 4a 4b 4c 4d 4e 4f 50 51 52 ee ef f0 f1 f2 f3 "  # d_
    "5c 9f 53 54 55 56 57 58 59 5a f4 f5 f6 f7 f8 f9 "  # e_
    "30 31 32 33 34 35 36 37 38 39 fa fb fc fd fe ff"  # f_
))

# ASCII to EBCDIC, POSIX (conv=ebcdic) (row "n_" maps bytes 0xn0..0xnf)
A2E_POSIX = _table((
    "00 01 02 03 37 2d 2e 2f 16 05 25 0b 0c 0d 0e 0f "  # 0_
    "10 11 12 13 3c 3d 32 26 18 19 3f 27 1c 1d 1e 1f "  # 1_
    "40 5a 7f 7b 5b 6c 50 7d 4d 5d 5c 4e 6b 60 4b 61 "  # 2_
    "f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 7a 5e 4c 7e 6e 6f "  # 3_
    "7c c1 c2 c3 c4 c5 c6 c7 c8 c9 d1 d2 d3 d4 d5 d6 "  # 4_
    "d7 d8 d9 e2 e3 e4 e5 e6 e7 e8 e9 ad e0 bd 9a 6d "  # 5_
    "79 81 82 83 84 85 86 87 88 89 91 92 93 94 95 96 "  # 6_
    "97 98 99 a2 a3 a4 a5 a6 a7 a8 a9 c0 4f d0 5f 07 "  # 7_
    "20 21 22 23 24 15 06 17 28 29 2a 2b 2c 09 0a 1b "  # 8_
    "30 31 1a 33 34 35 36 08 38 39 3a 3b 04 14 3e e1 "  # 9_
    "41 42 43 44 45 46 47 48 49 51 52 53 54 55 56 57 "  # a_
    "58 59 62 63 64 65 66 67 68 69 70 71 72 73 74 75 "  # b_
    "76 77 78 80 8a 8b 8c 8d 8e 8f 90 6a 9b 9c 9d 9e "  # c_
    "9f a0 aa ab ac 4a ae af b0 b1 b2 b3 b4 b5 b6 b7 "  # d_
    "b8 b9 ba bb bc a1 be bf ca cb cc cd ce cf da db "  # e_
    "dc dd de df ea eb ec ed ee ef fa fb fc fd fe ff"  # f_
))

# ASCII to IBM EBCDIC, POSIX (conv=ibm) (row "n_" maps bytes 0xn0..0xnf)
A2IBM_POSIX = _table((
    "00 01 02 03 37 2d 2e 2f 16 05 25 0b 0c 0d 0e 0f "  # 0_
    "10 11 12 13 3c 3d 32 26 18 19 3f 27 1c 1d 1e 1f "  # 1_
    "40 5a 7f 7b 5b 6c 50 7d 4d 5d 5c 4e 6b 60 4b 61 "  # 2_
    "f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 7a 5e 4c 7e 6e 6f "  # 3_
    "7c c1 c2 c3 c4 c5 c6 c7 c8 c9 d1 d2 d3 d4 d5 d6 "  # 4_
    "d7 d8 d9 e2 e3 e4 e5 e6 e7 e8 e9 ad e0 bd 5f 6d "  # 5_
    "79 81 82 83 84 85 86 87 88 89 91 92 93 94 95 96 "  # 6_
    "97 98 99 a2 a3 a4 a5 a6 a7 a8 a9 c0 4f d0 a1 07 "  # 7_
    "20 21 22 23 24 15 06 17 28 29 2a 2b 2c 09 0a 1b "  # 8_
    "30 31 1a 33 34 35 36 08 38 39 3a 3b 04 14 3e e1 "  # 9_
    "41 42 43 44 45 46 47 48 49 51 52 53 54 55 56 57 "  # a_
    "58 59 62 63 64 65 66 67 68 69 70 71 72 73 74 75 "  # b_
    "76 77 78 80 8a 8b 8c 8d 8e 8f 90 9a 9b 9c 9d 9e "  # c_
    "9f a0 aa ab ac ad ae af b0 b1 b2 b3 b4 b5 b6 b7 "  # d_
    "b8 b9 ba bb bc bd be bf ca cb cc cd ce cf da db "  # e_
    "dc dd de df ea eb ec ed ee ef fa fb fc fd fe ff"  # f_
))

# EBCDIC to ASCII, 32V (conv=oldascii) (row "n_" maps bytes 0xn0..0xnf)
E2A_32V = _table((
    "00 01 02 03 9c 09 86 7f 97 8d 8e 0b 0c 0d 0e 0f "  # 0_
    "10 11 12 13 9d 85 08 87 18 19 92 8f 1c 1d 1e 1f "  # 1_
    "80 81 82 83 84 0a 17 1b 88 89 8a 8b 8c 05 06 07 "  # 2_
    "90 91 16 93 94 95 96 04 98 99 9a 9b 14 15 9e 1a "  # 3_
    "20 a0 a1 a2 a3 a4 a5 a6 a7 a8 5b 2e 3c 28 2b 21 "  # 4_
    "26 a9 aa ab ac ad ae af b0 b1 5d 24 2a 29 3b 5e "  # 5_
    "2d 2f b2 b3 b4 b5 b6 b7 b8 b9 7c 2c 25 5f 3e 3f "  # 6_
    "ba bb bc bd be bf c0 c1 c2 60 3a 23 40 27 3d 22 "  # 7_
    "c3 61 62 63 64 65 66 67 68 69 c4 c5 c6 c7 c8 c9 "  # 8_
    "ca 6a 6b 6c 6d 6e 6f 70 71 72 cb cc cd ce cf d0 "  # 9_
    "d1 7e 73 74 75 76 77 78 79 7a d2 d3 d4 d5 d6 d7 "  # a_
    "d8 d9 da db dc dd de df e0 e1 e2 e3 e4 e5 e6 e7 "  # b_
    "7b 41 42 43 44 45 46 47 48 49 e8 e9 ea eb ec ed "  # c_
    "7d 4a 4b 4c 4d 4e 4f 50 51 52 ee ef f0 f1 f2 f3 "  # d_
    "5c 9f 53 54 55 56 57 58 59 5a f4 f5 f6 f7 f8 f9 "  # e_
    "30 31 32 33 34 35 36 37 38 39 fa fb fc fd fe ff"  # f_
))

# ASCII to EBCDIC, 32V (conv=oldebcdic) (row "n_" maps bytes 0xn0..0xnf)
A2E_32V = _table((
    "00 01 02 03 37 2d 2e 2f 16 05 25 0b 0c 0d 0e 0f "  # 0_
    "10 11 12 13 3c 3d 32 26 18 19 3f 27 1c 1d 1e 1f "  # 1_
    "40 4f 7f 7b 5b 6c 50 7d 4d 5d 5c 4e 6b 60 4b 61 "  # 2_
    "f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 7a 5e 4c 7e 6e 6f "  # 3_
    "7c c1 c2 c3 c4 c5 c6 c7 c8 c9 d1 d2 d3 d4 d5 d6 "  # 4_
    "d7 d8 d9 e2 e3 e4 e5 e6 e7 e8 e9 4a e0 5a 5f 6d "  # 5_
    "79 81 82 83 84 85 86 87 88 89 91 92 93 94 95 96 "  # 6_
    "97 98 99 a2 a3 a4 a5 a6 a7 a8 a9 c0 6a d0 a1 07 "  # 7_
    "20 21 22 23 24 15 06 17 28 29 2a 2b 2c 09 0a 1b "  # 8_
    "30 31 1a 33 34 35 36 08 38 39 3a 3b 04 14 3e e1 "  # 9_
    "41 42 43 44 45 46 47 48 49 51 52 53 54 55 56 57 "  # a_
    "58 59 62 63 64 65 66 67 68 69 70 71 72 73 74 75 "  # b_
    "76 77 78 80 8a 8b 8c 8d 8e 8f 90 9a 9b 9c 9d 9e "  # c_
    "9f a0 aa ab ac ad ae af b0 b1 b2 b3 b4 b5 b6 b7 "  # d_
    "b8 b9 ba bb bc bd be bf ca cb cc cd ce cf da db "  # e_
    "dc dd de df ea eb ec ed ee ef fa fb fc fd fe ff"  # f_
))

# ASCII to IBM EBCDIC, 32V (conv=oldibm) (row "n_" maps bytes 0xn0..0xnf)
A2IBM_32V = _table((
    "00 01 02 03 37 2d 2e 2f 16 05 25 0b 0c 0d 0e 0f "  # 0_
    "10 11 12 13 3c 3d 32 26 18 19 3f 27 1c 1d 1e 1f "  # 1_
    "40 5a 7f 7b 5b 6c 50 7d 4d 5d 5c 4e 6b 60 4b 61 "  # 2_
    "f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 7a 5e 4c 7e 6e 6f "  # 3_
    "7c c1 c2 c3 c4 c5 c6 c7 c8 c9 d1 d2 d3 d4 d5 d6 "  # 4_
    "d7 d8 d9 e2 e3 e4 e5 e6 e7 e8 e9 ad e0 bd 5f 6d "  # 5_
    "79 81 82 83 84 85 86 87 88 89 91 92 93 94 95 96 "  # 6_
    "97 98 99 a2 a3 a4 a5 a6 a7 a8 a9 c0 4f d0 a1 07 "  # 7_
    "20 21 22 23 24 15 06 17 28 29 2a 2b 2c 09 0a 1b "  # 8_
    "30 31 1a 33 34 35 36 08 38 39 3a 3b 04 14 3e e1 "  # 9_
    "41 42 43 44 45 46 47 48 49 51 52 53 54 55 56 57 "  # a_
    "58 59 62 63 64 65 66 67 68 69 70 71 72 73 74 75 "  # b_
    "76 77 78 80 8a 8b 8c 8d 8e 8f 90 9a 9b 9c 9d 9e "  # c_
    "9f a0 aa ab ac ad ae af b0 b1 b2 b3 b4 b5 b6 b7 "  # d_
    "b8 b9 ba bb bc bd be bf ca cb cc cd ce cf da db "  # e_
    "dc dd de df ea eb ec ed ee ef fa fb fc fd fe ff"  # f_
))


# conv= keyword -> translation table.
BY_CONV = {
    "ascii": E2A_POSIX,
    "ebcdic": A2E_POSIX,
    "ibm": A2IBM_POSIX,
    "oldascii": E2A_32V,
    "oldebcdic": A2E_32V,
    "oldibm": A2IBM_32V,
}

_UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = b"abcdefghijklmnopqrstuvwxyz"
TO_UPPER = bytes.maketrans(_LOWER, _UPPER)
TO_LOWER = bytes.maketrans(_UPPER, _LOWER)


def with_case(table, case):
    """Table that applies table (or identity if None) then case ('ucase'/'lcase')."""
    base = table if table is not None else bytes(range(256))
    return base.translate(TO_UPPER if case == "ucase" else TO_LOWER)
