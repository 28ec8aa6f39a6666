"""The `rumpdev` component: the device framework that device components attach to.

Provides the `devices` slot: attached driver name -> driver."""
from ..kern.module import Component
from ...abi.sysctl import STRING


def _attach(ctx):
    devices = ctx.provide("devices", {})
    ctx.sysctl("hw.drivers", STRING, getter=lambda: " ".join(sorted(devices)),
               desc="Attached device drivers")


component = Component("rumpdev", _attach, desc="device autoconfiguration", provides=("devices",))
