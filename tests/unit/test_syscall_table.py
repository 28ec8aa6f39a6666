"""The syscall table as the one source: handlers by name, checks, client stubs, encoders."""
import inspect
import struct

import pytest

from rumptools.abi import syscalls as sc
from rumptools.abi.sctypes import ARG_TYPES, RESULT_TYPES
from rumptools.kernel.kern import components
from rumptools.kernel.kern.syscall import Syscalls
from rumptools.sp import wire
from rumptools.sp.client import Client
from rumptools.sp.encoders import result_encoder

from .kernelkit import boot


def full_kernel():
    """The component set of rump_allserver."""
    return boot(*components.available())


def test_table_is_well_formed():
    assert sc.validate() == []
    assert len({s.number for s in sc.TABLE}) == len(sc.TABLE)
    assert len({s.name for s in sc.TABLE}) == len(sc.TABLE)
    assert len({s.method for s in sc.TABLE}) == len(sc.TABLE)
    for s in sc.TABLE:
        assert all(p.type in ARG_TYPES for p in s.args), s.name
        assert all(p.type in RESULT_TYPES for p in s.results), s.name
        assert len({p.name for p in s.args}) == len(s.args), s.name


def test_every_entry_has_a_handler_in_a_full_kernel():
    k = full_kernel()
    missing = [s.name for s in sc.TABLE if s.number not in k.sysent]
    assert not missing, "table entries without a handler: %s" % missing


def test_every_handler_has_an_entry_with_its_arity():
    k = full_kernel()
    for number, ent in k.sysent.items():
        assert sc.BY_NUMBER.get(number) is ent.sc, "handler %r has no table entry" % ent.handler
        params = list(inspect.signature(ent.handler).parameters)
        assert len(params) == 1 + len(ent.sc.args), \
            "%s: handler takes %s, table says lwp + %s" % (ent.sc.name, params, ent.sc.args)


def test_registration_is_by_name_and_checked():
    s = Syscalls()
    with pytest.raises(KeyError, match="not in the syscall table"):
        s("no_such_call")
    s("getpid")(lambda lwp: (1,))
    with pytest.raises(KeyError, match="twice"):
        s("getpid")(lambda lwp: (2,))


def test_argument_checks_are_compiled_from_the_types():
    sysctl, read = sc.BY_NAME["__sysctl"], sc.BY_NAME["read"]
    assert sc.check_args(sysctl, ("kern", 0, None))
    assert sc.check_args(sysctl, ("kern", 0, (1, b"x")))       # value: anything
    assert not sc.check_args(sysctl, ("kern", "0", None))
    assert not sc.check_args(read, (1,))
    assert not sc.check_args(read, (1, 2, 3))
    assert not sc.check_args(read, (True, 2))                  # bool is not an integer here
    utimes = sc.BY_NAME["__utimes50"]
    assert sc.check_args(utimes, ("/f", None, 5))
    assert not sc.check_args(utimes, ("/f", "now", 5))
    assert sc.check_args(sc.BY_NAME["getpid"], ())
    assert not sc.check_args(sc.BY_NAME["getpid"], (1,))
    assert sc.checker(read) is sc.checker(sc.BY_NAME["dup2"])   # one function per signature


def test_sized_results_name_an_argument():
    read = sc.BY_NAME["read"]
    (data,) = read.results
    assert data.type == "outbuf" and data.sized_by == "nbyte"
    assert sc.BY_NAME["readv"].results[0].sized_by == "sizes"


def test_client_stubs_come_from_the_table():
    for s in sc.TABLE:
        stub = getattr(Client, s.method)
        assert stub.__name__ == s.method and s.name in stub.__doc__
    assert not hasattr(Client, "no_such_call")


@pytest.mark.parametrize("name,results", [
    ("getpid", (42,)), ("close", ()), ("read", (b"abc",)), ("pipe2", (3, 4)),
    ("__stat50", (tuple(range(14)),)), ("__stat50", ([-1] * 14,)), ("__stat50", ((1, 2),)),
    ("__sysctl", ("int", 5, 0)), ("fcntl", (None,)),
])
def test_result_encoders_match_the_generic_encoding(name, results):
    assert result_encoder(sc.BY_NAME[name])(7, results) == wire.frame(7, wire.RESP, wire.SYSCALL, 0, wire.encode(results))


def test_result_encoders_refuse_the_wrong_shape():
    with pytest.raises(ValueError):
        result_encoder(sc.BY_NAME["getpid"])(1, (1, 2))
    with pytest.raises(ValueError):
        result_encoder(sc.BY_NAME["close"])(1, (0,))
    with pytest.raises(ValueError):
        result_encoder(sc.BY_NAME["pipe2"])(1, (3,))
    with pytest.raises(struct.error):
        result_encoder(sc.BY_NAME["getpid"])(1, (1 << 70,))
    with pytest.raises(wire.WireError):         # as wire.encode: the server answers EOVERFLOW
        result_encoder(sc.BY_NAME["__stat50"])(1, ((1 << 70,) + (0,) * 13,))
    with pytest.raises(wire.WireError):
        result_encoder(sc.BY_NAME["__stat50"])(1, ((0.5,) + (0,) * 13,))


class _Sock:
    def __init__(self):
        self.sent = []

    def send(self, data, flags=0):
        self.sent.append(bytes(data))
        return len(data)


def _server_call(k, number, args):
    """One call through the server's dispatch (as a pool worker runs it); returns
    (errno, results) from the reply frame."""
    from rumptools.sp import server, url
    from .kernelkit import spawn
    srv = server.Server(k, url.parse("unix:///nonexistent/socket"))
    sock = _Sock()
    conn = server.Connection(srv, sock)
    conn.syscall(spawn(k), 9, number, wire.encode(args))
    (reply,) = sock.sent
    length, reqno, cls, typ, err = wire.HEADER.unpack_from(reply)
    assert (length, reqno, cls, typ) == (len(reply), 9, wire.RESP, wire.SYSCALL)
    return err, wire.decode(reply[wire.HEADER_SIZE:]) if len(reply) > wire.HEADER_SIZE else ()


def test_server_dispatch_answers_from_the_table():
    from rumptools.abi import errnos
    from .kernelkit import attach
    k = boot()
    assert _server_call(k, sc.BY_NAME["getpid"].number, ()) == (0, (2,))
    assert _server_call(k, sc.BY_NAME["getpid"].number, (1,))[0] == errnos.EINVAL
    assert _server_call(k, sc.BY_NAME["mkdir"].number, ("/d", 0o755))[0] == errnos.ENOSYS  # no rumpvfs
    assert _server_call(k, 9999, ())[0] == errnos.ENOSYS
    buggy = Syscalls()
    buggy("sync")(lambda lwp: (1,))                 # the table says sync returns nothing
    buggy("umask")(lambda lwp, mask: (1 << 70,))     # too big for the wire
    attach(k, lambda ctx: ctx.add_syscalls(buggy))
    assert _server_call(k, sc.BY_NAME["sync"].number, ())[0] == errnos.EIO
    assert any("results do not fit the syscall table" in line for line in k.console_lines)
    assert _server_call(k, sc.BY_NAME["umask"].number, (0o22,))[0] == errnos.EOVERFLOW
    assert k.nlwps == 0


def test_server_dispatch_answers_an_undecodable_body_as_malformed():
    from rumptools.sp import server, url
    from .kernelkit import spawn
    k = boot()
    srv = server.Server(k, url.parse("unix:///nonexistent/socket"))
    sock = _Sock()
    conn = server.Connection(srv, sock)
    conn.syscall(spawn(k), 7, sc.BY_NAME["getpid"].number, b"l\x01\x00\x00\x00?")
    (reply,) = sock.sent
    assert wire.HEADER.unpack_from(reply) == (len(reply), 7, wire.ERROR, 0, wire.E_MALFORMED)
