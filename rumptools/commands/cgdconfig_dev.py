"""rump.cgdconfig's kernel side: configure (from a params file or a raw key
on stdin), verify, unconfigure and list cgd units of a rump kernel.

The cgd ioctls travel by value (rumptools.abi.cgdioctl) on a raw cgd device
opened in the kernel (/dev/rcgd0d for `cgd0`).  Verification reads the
decrypted start of the cgd through that descriptor, in whole sectors; a unit
that fails it is unconfigured again before the command exits, and nothing
is ever written to the disk.  `ctx.client` connects on first use, so usage
errors and missing host files are reported without a server.
"""
from ..formats.ffs_superblock import SBLOCKSEARCH
from ..abi import cgdioctl, errnos
from ..abi.syscalls import O_RDONLY, O_RDWR
from ._diskio import OpenError, opendisk
from .cgdconfig_keys import (Fail, Usage, derive, forget_shared, load_params,
                             out, params_path, reenter_matches, show_warnings,
                             stdin_bytes, strerror, uses_passphrase)

SIZE_MAX = (1 << 64) - 1            # how cgdconfig prints "no blocksize"
SCANSIZE = 8192                     # disklabel, mbr and gpt look in here
SBLOCKSIZE = 8192
FFS_SUPERBLOCKS = SBLOCKSEARCH


def _warn(msg):
    from ._cli import warn
    warn(msg)


def open_cgd(c, name, flags):
    """(fd, path) of the cgd, or OpenError naming the last path tried."""
    return opendisk(lambda path: c.open(path, flags, 0), name)


def _unit(path):
    u = cgdioctl.parse_cgd_name(path)
    return -1 if u is None else u


def _close(ctx, fd):
    if fd is not None:
        try:
            ctx.client.close(fd)
        except OSError:
            pass


def open_werror(ctx, cgd):
    """Open the cgd to configure it; with -n only pretend to."""
    if ctx.dry_run:
        return None, cgd
    try:
        return open_cgd(ctx.client, cgd, O_RDWR)
    except OpenError as e:
        raise Fail('can\'t open cgd "%s", "%s"' % (cgd, e.path))


def set_params(ctx, fd, dev, p, key):
    """CGDIOCSET (after -v/-vv reports); -n stops before the ioctl."""
    if ctx.verbose >= 1:
        bsize = SIZE_MAX if p.blocksize is None else p.blocksize
        out("    with alg %s keylen %d blocksize %d ivmethod %s\n"
            % (p.algorithm, p.keylength, bsize, p.ivmethod))
    if ctx.verbose >= 2:
        from ..formats.cgdparams import bits_encode
        out("key: %s\n" % bits_encode(key, p.keylength))
    if ctx.dry_run:
        return
    arg = (dev, p.algorithm, p.ivmethod, p.keylength, key,
           -1 if p.blocksize is None else p.blocksize)
    try:
        ctx.client.ioctl(fd, cgdioctl.CGDIOCSET, arg)
    except OSError as e:            # NetBSD's cgdconfig exits with this errno (16 for a busy unit)
        raise Fail("ioctl: %s" % strerror(e), status=_netbsd_errno(e))


def _netbsd_errno(exc):
    if isinstance(exc, errnos.RumpError):
        return exc.errno
    return errnos.from_host(exc.errno or 5)


def clear(ctx, fd):
    try:
        ctx.client.ioctl(fd, cgdioctl.CGDIOCCLR, None)
    except OSError as e:
        raise Fail("ioctl: %s" % strerror(e))


def _read_areas(c, fd, method):
    """The decrypted bytes `method` looks at, zeros where nothing was read.

    ffs tries each superblock place on its own; one past the end of a small
    disk (or unreadable) is skipped, not fatal.
    """
    if method == "ffs":
        buf = bytearray(max(FFS_SUPERBLOCKS) + SBLOCKSIZE)
        for off in FFS_SUPERBLOCKS:
            try:
                data = c.pread(fd, SBLOCKSIZE, off)
            except OSError:
                continue
            buf[off:off + len(data)] = data
        return bytes(buf)
    try:
        return bytes(c.pread(fd, SCANSIZE, 0))
    except OSError as e:
        raise Fail("can't read %s area: %s" % (method, strerror(e)))


def verified(ctx, fd, p, parts):
    """Does the configured cgd look as verify_method says?  (-n: only re-enter.)"""
    method = p.verify_method
    if method == "none":
        return True
    if method == "re-enter":
        return reenter_matches(p, parts, ctx.pw)
    if ctx.dry_run:
        return True
    from ..crypto.cgd_keygen import verify
    return verify(method, _read_areas(ctx.client, fd, method))


def configure(ctx, argv, from_main=True):
    """cgd dev [paramsfile]: configure, verify, ask again or give up."""
    if not 2 <= len(argv) <= 3:
        if from_main:
            _warn("wrong number of args")
            raise Usage()
        raise Fail()
    cgd, dev = argv[0], argv[1]
    pfile = params_path(dev, argv[2] if len(argv) > 2 else None)
    p = load_params(pfile, ctx.ivmethod, ctx.verify, ctx.blocksize)
    show_warnings(p)
    retry = ctx.pw.interactive and uses_passphrase(p)
    while True:
        fd, _path = open_werror(ctx, cgd)
        try:
            key, parts = derive(p, ctx.pw, dev, ctx.shared)
            set_params(ctx, fd, dev, p, key)
            try:
                ok = verified(ctx, fd, p, parts)
            except BaseException:       # a read error, ^C at a prompt
                if not ctx.dry_run:
                    try:
                        clear(ctx, fd)
                    except Fail:
                        pass
                raise
            if ok:
                return
            if not ctx.dry_run:
                clear(ctx, fd)
        finally:
            _close(ctx, fd)
        forget_shared(p, ctx.shared)
        if not retry:
            raise Fail("verification failed permanently")
        _warn("verification failed, please reenter passphrase")


def configure_stdin(ctx, args):
    """-s cgd dev alg [keylen]: the raw key (keylen/8 bytes) from stdin."""
    from ..formats.cgdparams import Params
    from .cgdconfig_keys import default_keylen, parse_keylen
    if not 3 <= len(args) <= 4:
        raise Usage()
    cgd, dev, alg = args[:3]
    keylen = parse_keylen(args[3]) if len(args) > 3 else None
    keylen = default_keylen(alg, keylen)
    p = Params(algorithm=alg, ivmethod=ctx.ivmethod or "encblkno1",
               keylength=keylen, blocksize=ctx.blocksize)
    fd, _path = open_werror(ctx, cgd)
    try:
        n = (keylen + 7) // 8 if keylen > 0 else 0
        key = stdin_bytes().read(n) if n else b""
        if not n or key is None or len(key) < n:
            raise Fail("failed to read key from stdin")
        set_params(ctx, fd, dev, p, bytes(key))
    finally:
        _close(ctx, fd)


def unconfigure(ctx, argv, from_main=True):
    """-u cgd (or a cgd.conf line for -U)."""
    if from_main and len(argv) != 1:
        raise Usage()
    if not from_main and not 2 <= len(argv) <= 3:
        raise Fail()
    cgd = argv[0]
    fd = None
    try:
        fd, path = open_cgd(ctx.client, cgd, O_RDWR)
    except OpenError as e:
        _warn('can\'t open cgd "%s", "%s": %s' % (cgd, e.path, strerror(e.exc)))
        if not ctx.dry_run:         # not fatal with -n; the exit status is the errno
            raise Fail(status=_netbsd_errno(e.exc))
        path = e.path
    try:
        if ctx.verbose >= 1:
            out("%s (%s): clearing\n" % (cgd, path))
        if not ctx.dry_run:
            clear(ctx, fd)
    finally:
        _close(ctx, fd)


IV_NAMES = {cgdioctl.MODE_ENCBLKNO8: "encblkno8",
            cgdioctl.MODE_ENCBLKNO1: "encblkno1"}


def _show(ctx, name, quiet_missing):
    c = ctx.client
    try:
        fd, path = open_cgd(c, name, O_RDONLY)
    except OpenError as e:
        if not (quiet_missing and e.exc.errno in (errnos.ENOENT, errnos.ENXIO)):
            _warn("open: %s: %s" % (name, strerror(e.exc)))
        return
    try:
        info = c.ioctl(fd, cgdioctl.CGDIOCGET, _unit(path))
    except OSError as e:
        raise Fail("CGDIOCGET: %s" % strerror(e), status=1)
    finally:
        _close(ctx, fd)
    _unit_no, disk, alg, blocksize, mode, keylen = info
    line = "%s: " % name
    if not disk:
        line += "not in use"
    else:
        line += "%s " % disk
        if ctx.verbose >= 1:
            line += "%s " % alg
        if ctx.verbose >= 2:
            line += "keylen %d blksize %d %s " % (
                keylen, blocksize, IV_NAMES.get(mode, "unknown"))
    out(line + "\n")


def list_cgds(ctx, args):
    """-l [cgd]: one line per unit (units that do not exist are skipped)."""
    if len(args) > 1:
        raise Usage()
    if args:
        _show(ctx, args[0], False)
        return
    for unit in range(cgdioctl.NCGD):
        _show(ctx, "cgd%d" % unit, True)


def do_all(ctx, args, action):
    """-C, -U and -T: `action(words)` for each line of cgd.conf, stopping
    at the first that fails."""
    from .cgdconfig_keys import conf_lines, read_conf
    if args:
        raise Usage()
    fn, text = read_conf(ctx.cfile)
    for lineno, words in conf_lines(text):
        try:
            action(words)
        except Fail as e:
            if e.message:
                _warn(e.message)
            _warn('action failed on "%s" line %d' % (fn, lineno))
            raise Fail(status=e.status)

