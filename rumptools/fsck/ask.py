"""fsck's dialogue: how problems are reported and questions answered.

With -n every answer is no (and the problem stays unresolved), with -y every
answer is yes; with -p (preen) there are no questions: safe fixes are made
with a suffix such as " (SALVAGED)" and anything else stops the check with
"UNEXPECTED INCONSISTENCY; RUN fsck_ffs MANUALLY." (exit 8).
"""


class Unexpected(Exception):
    """-p met a problem it may not fix alone."""


class Dialogue:
    def __init__(self, out, devname, nflag=False, yflag=False, preen=False, answer=None):
        self.out = out
        self.dev = devname
        self.nflag, self.yflag, self.preen = nflag, yflag, preen
        self.answer = answer          # callable(question) -> bool, for interactive use
        self.resolved = True

    def write(self, text):
        self.out.write(text)

    def pwarn(self, text):
        """A warning line start; with -p it names the device."""
        if self.preen:
            self.write("%s: " % self.dev)
        self.write(text)

    def pfatal(self, text):
        """A problem -p cannot fix on its own."""
        if self.preen:
            self.write("%s: %s\n" % (self.dev, text))
            self.write("%s: UNEXPECTED INCONSISTENCY; RUN fsck_ffs MANUALLY.\n" % self.dev)
            raise Unexpected()
        self.write(text)

    def reply(self, question):
        """Ask; True means fix it."""
        if self.nflag:
            self.write("\n%s? no\n\n" % question)
            self.resolved = False
            return False
        if self.yflag:
            self.write("\n%s? yes\n\n" % question)
            return True
        if self.answer is None:
            self.write("\n%s? no\n\n" % question)
            self.resolved = False
            return False
        self.write("%s? [yn] " % question)
        self.out.flush()
        ok = bool(self.answer(question))
        self.write("\n")
        if not ok:
            self.resolved = False
        return ok

    def fix(self, message, question, preen_suffix):
        """A problem -p may fix: print message, then ask (or fix with suffix)."""
        if self.preen:
            self.write("%s: %s%s\n" % (self.dev, message, preen_suffix))
            return True
        self.write(message)
        return self.reply(question)

    def unsafe(self, message, question):
        """A problem -p may not fix."""
        if self.preen:
            self.pfatal(message.rstrip("\n"))
        self.write(message)
        return self.reply(question)
