"""rump.cgdconfig: configure cgd(4) encrypted disks of a rump kernel, and make,
convert and check their parameters files, as NetBSD's cgdconfig(8).

Options are parsed as getopt("CGTUV:b:ef:gi:k:lno:pstuv") would (the first
word that is not an option ends them); at most one of -C -G -g -l -s -T -t
-U -u picks the action, configuring is the default.  The kernel-facing
actions live in cgdconfig_dev, -g, -G, -t and -T in cgdconfig_gen, and
passphrases, params files and keys in cgdconfig_keys.  -g, -G, -t and -T need no server.
Every failure prints `rump.cgdconfig: <message>`; the exit status is
NetBSD's: 255 for a failed action (cgdconfig returns -1), the errno of a
failed CGDIOCSET, 1 for usage errors.
"""
import sys

import click

from . import _cli

USAGE = (
    "usage: %s [-enpv] [-V vmeth] cgd dev [paramsfile]\n"
    "       %s -C [-enpv] [-f configfile]\n"
    "       %s -G [-enpv] [-i ivmeth] [-k kgmeth] [-o outfile] paramsfile\n"
    "       %s -g [-v] [-V vmeth] [-i ivmeth] [-k kgmeth] [-o outfile] "
    "alg [keylen]\n"
    "       %s -T [-f configfile]\n"
    "       %s -t paramsfile\n"
    "       %s -l [-v[v]] [cgd]\n"
    "       %s -s [-nv] [-i ivmeth] cgd dev alg [keylen]\n"
    "       %s -U [-nv] [-f configfile]\n"
    "       %s -u [-nv] cgd")

KEYGEN_NAMES = ("pkcs5_pbkdf2/sha1", "pkcs5_pbkdf2", "argon2id", "storedkey",
                "randomkey", "urandomkey", "shell_cmd")
VERIFY_NAMES = ("none", "disklabel", "mbr", "gpt", "ffs", "re-enter")


class Ctx:
    """The command line, the passphrase source and a lazy server connection."""

    def __init__(self, **kw):
        self.__dict__.update(kw)
        self.shared = {}            # shared keygens: once per run
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = _cli.connect()
        return self._client


def _last(values):
    return values[-1] if values else None


def _options(o):
    """Check option values as cgdconfig does; a bad one is a usage error."""
    from .cgdconfig_keys import Passphrases, Usage, parse_int
    if len(o["cfile"]) > 1 or len(o["outfile"]) > 1:
        raise Usage()
    verify = _last(o["vmeth"])
    for v in o["vmeth"]:
        if v not in VERIFY_NAMES:
            _cli.warn('params_setverify_method: unrecognized verify method "%s"'
                      % v)
            raise Usage()
    bad_keygen = False
    for k in o["kgmeth"]:
        if k not in KEYGEN_NAMES:
            _cli.warn('unrecognized key generation method "%s"' % k)
            if not (o["gen"] or o["regen"]):
                raise Usage()
            bad_keygen = True       # -g/-G fail later, as keygen_filldefaults does
    blocksize = None
    if o["bsize"]:
        blocksize = parse_int(o["bsize"][-1])
        if blocksize is None:
            raise Usage()
    return Ctx(verify=verify, blocksize=blocksize,
               ivmethod=_last(o["ivmeth"]), keygens=list(o["kgmeth"]),
               cfile=_last(o["cfile"]), outfile=_last(o["outfile"]),
               dry_run=o["dry_run"], verbose=o["verbose"], bad_keygen=bad_keygen,
               pw=Passphrases(from_stdin=o["pstdin"], echo=o["echo"]))


ACTIONS = (("all_conf", "configall"), ("regen", "convert"),
           ("print_all", "printall"), ("all_unconf", "unconfigall"),
           ("gen", "generate"), ("listing", "list"), ("keystdin", "stdin"),
           ("printkey", "printkey"), ("unconf", "unconfigure"))


def run(action, ctx, args):
    from . import cgdconfig_dev as dev
    from . import cgdconfig_gen as gen
    if action == "configure":
        dev.configure(ctx, list(args))
    elif action == "unconfigure":
        dev.unconfigure(ctx, list(args))
    elif action == "list":
        dev.list_cgds(ctx, args)
    elif action == "stdin":
        dev.configure_stdin(ctx, args)
    elif action == "configall":
        dev.do_all(ctx, args, lambda w: dev.configure(ctx, w, False))
    elif action == "unconfigall":
        dev.do_all(ctx, args, lambda w: dev.unconfigure(ctx, w, False))
    elif action == "printall":
        dev.do_all(ctx, args,
                   lambda w: gen.printkey_line(ctx, w, ctx.pw, ctx.shared))
    elif action == "generate":
        gen.generate(ctx, args)
    elif action == "convert":
        gen.generate_convert(ctx, args, ctx.pw)
    elif action == "printkey":
        gen.printkey(ctx, args, ctx.pw)


@click.command(cls=_cli.NetBSDCommand, usage_text=USAGE,
               context_settings={"allow_interspersed_args": False})
@click.option("-C", "all_conf", is_flag=True)
@click.option("-G", "regen", is_flag=True)
@click.option("-T", "print_all", is_flag=True)
@click.option("-U", "all_unconf", is_flag=True)
@click.option("-V", "vmeth", multiple=True)
@click.option("-b", "bsize", multiple=True)
@click.option("-e", "echo", is_flag=True)
@click.option("-f", "cfile", multiple=True)
@click.option("-g", "gen", is_flag=True)
@click.option("-i", "ivmeth", multiple=True)
@click.option("-k", "kgmeth", multiple=True)
@click.option("-l", "listing", is_flag=True)
@click.option("-n", "dry_run", is_flag=True)
@click.option("-o", "outfile", multiple=True)
@click.option("-p", "pstdin", is_flag=True)
@click.option("-s", "keystdin", is_flag=True)
@click.option("-t", "printkey", is_flag=True)
@click.option("-u", "unconf", is_flag=True)
@click.option("-v", "verbose", count=True)
@click.argument("args", nargs=-1)
def cli(args, **o):
    from .cgdconfig_keys import Fail, Usage
    chosen = [name for flag, name in ACTIONS if o[flag]]
    try:
        if len(chosen) > 1:
            raise Usage()
        action = chosen[0] if chosen else "configure"
        ctx = _options(o)
        run(action, ctx, tuple(args))
    except Usage:
        sys.stdout.flush()
        click.get_current_context().command.usage()
    except Fail as e:
        sys.stdout.flush()
        if e.message:
            _cli.warn(e.message)
        sys.exit(e.status)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        sys.exit(1)


cmd = cli


def main():
    cli.main()


if __name__ == "__main__":
    main()
