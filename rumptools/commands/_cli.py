"""What every rump.* command shares: NetBSD-style usage errors and messages.

Click parses; on a usage error we print NetBSD's usage text and exit 1
(click's own default is a different text and exit 2).
"""
import os
import sys

import click


def progname():
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "rump"


def warn(msg):
    sys.stderr.write("%s: %s\n" % (progname(), msg))


def die(msg, status=1):
    warn(msg)
    sys.exit(status)


class NetBSDCommand(click.Command):
    """A click command whose usage errors look like NetBSD's and exit 1.

    Set `usage_text` to the usage lines (with %s for the program name).
    """

    usage_text = "usage: %s"

    def __init__(self, *args, usage_text=None, **kwargs):
        kwargs.setdefault("context_settings", {})
        kwargs["context_settings"].setdefault("help_option_names", [])
        kwargs["add_help_option"] = False
        super().__init__(*args, **kwargs)
        if usage_text:
            self.usage_text = usage_text

    def main(self, args=None, prog_name=None, **extra):
        try:
            return super().main(args=args, prog_name=prog_name or progname(), standalone_mode=False, **extra)
        except click.UsageError as e:
            if e.message and not e.message.startswith("Missing argument"):
                sys.stderr.write("%s: %s\n" % (progname(), _clean(e.message)))
            self.usage()
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except click.Abort:
            sys.exit(1)

    def usage(self):
        sys.stderr.write(self.usage_text.replace("%s", progname()) + "\n")
        sys.exit(1)


def _clean(message):
    """click's wording to getopt's: `unknown option -- x`."""
    import re
    m = re.match(r"No such option:? '?-*([^ .']+)", message)
    if m:
        return "unknown option -- %s" % m.group(1)
    m = re.match(r"Option '?-*(\w)'? requires an argument", message)
    if m:
        return "option requires an argument -- %s" % m.group(1)
    return message.replace("'", "")


def connect(failure="prog init failed"):
    """Connect to RUMP_SERVER or exit with NetBSD's message (`prog init failed: ...`)."""
    from ..sp import client
    from ..abi import errnos
    try:
        return client.init(progname())
    except OSError as e:
        die("%s: %s" % (failure, errnos.host_text(e)))


def syscall_error(what, exc):
    """`prog: what: strerror` for a failed remote call, as err(3) prints it."""
    from ..abi import errnos
    return "%s: %s" % (what, errnos.host_text(exc)) if what else errnos.host_text(exc)


def dd_completion(prog, operands):
    """Shell completion for a command that takes `name=value` operands (rump.dd).

    Click completes the option-style commands itself when _<PROG>_COMPLETE is
    set (`_RUMP_SYSCTL_COMPLETE=bash_source rump.sysctl`); rump.dd parses its
    own operands, so it answers through this small click command instead:
    operand names while a word has no `=`, host file names after if= and of=.
    """
    from click.shell_completion import CompletionItem

    def complete(ctx, param, incomplete):
        name, eq, value = incomplete.partition("=")
        if not eq:
            return [CompletionItem(n + "=", type="plain") for n in sorted(operands) if n.startswith(name)]
        if name in ("if", "of"):
            return [CompletionItem(value, type="file")]
        return []

    command = click.Command(prog, params=[click.Argument(["operands"], nargs=-1, shell_complete=complete)],
                            add_help_option=False)
    command.main(prog_name=prog)
