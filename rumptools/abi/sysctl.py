"""sysctl node kinds and flags as __sysctl(2) reports them to clients.

A read or describe answers (kind, value or description, flags). kind is one
of the strings below; flags is a bit set: F_WRITABLE (a write is allowed),
F_HEX (print in hex by default), F_UNSIGNED (an int to print unsigned).
"""
NODE, INT, QUAD, STRING, BOOL, STRUCT = "node", "int", "quad", "string", "bool", "struct"
F_WRITABLE, F_HEX, F_UNSIGNED = 1, 2, 4
