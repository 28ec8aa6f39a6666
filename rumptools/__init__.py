"""rumptools: NetBSD's rump kernel server and clients, for Linux, in Python.

Kept empty on purpose: client commands import this package first, and every
millisecond spent here is paid by every rump.* command.
"""
