"""poll(2) and select(2): NetBSD's event bits and limits, as both ends use them.

poll carries a list of (fd, events) pairs and gets back one revents value per
pair; select carries three lists of descriptors and gets back the ready ones.
"""
POLLIN = 0x0001         # data other than high-priority may be read
POLLPRI = 0x0002        # high-priority data may be read
POLLOUT = 0x0004        # writing will not block
POLLRDNORM = 0x0040     # normal data may be read
POLLWRNORM = POLLOUT    # normal data may be written
POLLRDBAND = 0x0080     # priority data may be read
POLLWRBAND = 0x0100     # priority data may be written
POLLERR = 0x0008        # an error happened (revents only)
POLLHUP = 0x0010        # the peer hung up (revents only)
POLLNVAL = 0x0020       # the descriptor is not open (revents only)

INFTIM = -1             # poll timeout: wait for ever

# What select's three sets ask of a file's poll operation (NetBSD's sel_flag).
SELECT_READ = POLLRDNORM | POLLHUP | POLLERR
SELECT_WRITE = POLLWRNORM | POLLHUP | POLLERR
SELECT_EXCEPT = POLLRDBAND

# What a file that is always ready answers (NetBSD's seltrue, genfs_poll).
SELTRUE = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM

NAMES = (("POLLIN", POLLIN), ("POLLPRI", POLLPRI), ("POLLOUT", POLLOUT),
         ("POLLERR", POLLERR), ("POLLHUP", POLLHUP), ("POLLNVAL", POLLNVAL),
         ("POLLRDNORM", POLLRDNORM), ("POLLRDBAND", POLLRDBAND), ("POLLWRBAND", POLLWRBAND))


def describe(bits):
    """'POLLIN|POLLRDNORM' for a revents value (0 -> '0')."""
    names = [n for n, b in NAMES if bits & b]
    return "|".join(names) if names else "0"
