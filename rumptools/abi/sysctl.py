"""sysctl node kinds and flags as __sysctl(2) reports them to clients.

A read or describe answers (kind, value or description, flags). kind is one
of the strings below; flags is a bit set: F_WRITABLE (a write is allowed),
F_HEX (print in hex by default), F_UNSIGNED (an int to print unsigned).
"""
NODE, INT, QUAD, STRING, BOOL, STRUCT = "node", "int", "quad", "string", "bool", "struct"
F_WRITABLE, F_HEX, F_UNSIGNED = 1, 2, 4

# a row of kern.file2 (a struct node): one descriptor of one process; type is DTYPE_VNODE 1,
# DTYPE_SOCKET 2, DTYPE_PIPE 3 (0 other); data matches a socket's kinfo_pcb ki_sockaddr
FILE2_FIELDS = ("pid", "fd", "type", "data", "uid", "comm")
DTYPE_SOCKET = 2
