"""Parse sysproxy service URLs: unix://path, unix:///abs/path, tcp://a.b.c.d:port/, tcp://[v6]:port/.

Pure: turns a URL into an Address and reports NetBSD's diagnostics on error.
A relative unix path is made absolute at parse time (as librumpuser does), so
a server can remove its socket on exit and a client can pass it across exec.
"""
import os
import socket
from collections import namedtuple

from ..abi import errnos

UNIX_PATH_MAX = 107  # sun_path is 108 bytes on Linux, one for the NUL


class URLError(Exception):
    """A malformed URL. .message is NetBSD's diagnostic, .errno NetBSD's number."""

    def __init__(self, message, err=errnos.EINVAL):
        super().__init__(message)
        self.message = message
        self.errno = err


class Address(namedtuple("Address", "scheme path host port family6", defaults=("", "", 0, False))):
    """scheme "unix" (path absolute) or "tcp" (host literal, port, family6 for IPv6)."""

    __slots__ = ()

    def describe(self):
        if self.scheme == "unix":
            return "unix://" + self.path
        if self.family6:
            return "tcp://[%s]:%d/" % (self.host, self.port)
        return "tcp://%s:%d/" % (self.host, self.port)

    @property
    def wildcard(self):
        return self.scheme == "tcp" and self.host in ("0.0.0.0", "::")

    @property
    def loopback(self):
        return self.scheme == "unix" or self.host == "::1" or self.host.startswith("127.")


def parse(url, server=False, cwd=None):
    """Parse a service URL. Servers may bind the wildcard address; clients may not."""
    if "://" not in url:
        raise URLError("rump_sp: invalid locator ``%s''" % url)
    ident, rest = url.split("://", 1)
    if len(ident) > 15:
        raise URLError("rump_sp: identifier too long in ``%s''" % url)
    if ident == "unix":
        return _parse_unix(rest, cwd)
    if ident == "tcp":
        return _parse_tcp(rest, server)
    if ident == "tcp6":
        raise URLError("rump_sp: support not yet implemented", errnos.EOPNOTSUPP)
    raise URLError("rump_sp: invalid identifier ``%s''" % url)


def _parse_unix(path, cwd):
    if not path:
        raise URLError("rump_sp: empty unix path in ``unix://''")
    if not path.startswith("/"):
        path = os.path.join(cwd or os.getcwd(), path)
    if len(os.fsencode(path)) > UNIX_PATH_MAX:
        raise URLError("rump_sp: socket path too long: %s" % path, errnos.ENAMETOOLONG)
    return Address("unix", path=path)


def _parse_tcp(rest, server):
    six = rest.startswith("[")
    if six:
        close = rest.find("]")
        if close < 0:
            raise URLError("rump_sp_tcp: cannot parse %s" % rest)
        host, tail = rest[1:close], rest[close + 1:]
        if not tail.startswith(":"):
            raise URLError("rump_sp_tcp: missing port specifier")
        portpart = tail[1:]
    else:
        if ":" not in rest:
            raise URLError("rump_sp_tcp: missing port specifier")
        host, portpart = rest.split(":", 1)
    if len(host) > 63:
        raise URLError("rump_sp_tcp: address too long")
    if host in ("*", "0"):
        host = "::" if six else "0.0.0.0"
    family = socket.AF_INET6 if six else socket.AF_INET
    try:
        host = socket.inet_ntop(family, socket.inet_pton(family, host))   # canonical form
    except (OSError, ValueError):
        raise URLError("rump_sp_tcp: cannot parse %s" % host) from None
    digits = 0
    while digits < len(portpart) and portpart[digits].isdigit():
        digits += 1
    if digits == 0:
        raise URLError("rump_sp_tcp: port now found: %s" % portpart)
    if portpart[digits:] not in ("", "/"):
        raise URLError("rump_sp_tcp: junk at end of port: %s" % portpart)
    port = int(portpart[:digits])
    if not 0 < port < 65536:
        raise URLError("rump_sp_tcp: port %d out of range" % port, errnos.ERANGE)
    if host in ("0.0.0.0", "::") and not server:
        raise URLError("rump_sp_tcp: client needs !INADDR_ANY")
    return Address("tcp", host=host, port=port, family6=six)
