"""The `rumpkern_crypto` component: the block ciphers cgd and others use.

The ciphers themselves are rumptools.crypto (backed by the cryptography
package); this component makes them part of the kernel configuration.
"""
from .module import Component
from ...abi.sysctl import STRING

CIPHERS = "aes-cbc aes-xts 3des-cbc blowfish-cbc"


def _attach(ctx):
    ctx.sysctl("kern.crypto.ciphers", STRING, CIPHERS, desc="Block ciphers available")


component = Component("rumpkern_crypto", _attach, desc="kernel cryptographic ciphers")
