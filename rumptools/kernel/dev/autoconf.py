"""The `rumpdev` component: the device framework that device components attach to."""
from ..kern.module import Component
from ..kern.sysctl import STRING


def _attach(kernel, comp):
    kernel.devices = getattr(kernel, "devices", {})
    kernel.sysctl.add("hw.drivers", STRING, getter=lambda: " ".join(sorted(kernel.devices)), owner=comp,
                      desc="Attached device drivers")


component = Component("rumpdev", _attach, desc="device autoconfiguration")
