"""Components declared and self-cleaning: one attach context records what a component
adds, unloading removes exactly that, and subsystems meet through slots."""
import importlib

import pytest

from rumptools.abi import errnos
from rumptools.abi import syscalls as sc
from rumptools.abi.errnos import RumpError
from rumptools.kernel.kern import components
from rumptools.kernel.kern.module import AttachError, Component
from rumptools.kernel.kern.syscall import Syscalls
from rumptools.kernel.vfs.vnode import VCHR

from .kernelkit import attach, boot, call, spawn


def snapshot(k):
    """Everything a component can add, as comparable values."""
    dev = k.slot("vfs").root.lookup("dev")
    return {
        "sysent": sorted(k.sysent),
        "sysctl": sorted(name for name, _node in k.sysctl.walk()),
        "devsw": sorted(k.devsw),
        "dev": sorted(dev.children) if hasattr(dev, "children") else sorted(dev.entries),
        "sync": [(o.name, fn.__qualname__) for o, fn in k.sync_hooks],
        "shutdown": [(o.name, fn.__qualname__) for o, fn in k.shutdown_hooks],
        "slots": sorted(k.slots),
        "fstypes": sorted(k.slot("vfs").fstypes),
    }


def base_kernel():
    return boot("rumpvfs", "rumpdev", "rumpdev_disk", "rumpkern_crypto")


def test_unloading_cgd_leaves_no_shutdown_hook():
    k = base_kernel()
    hooks = list(k.shutdown_hooks)
    p = spawn(k)
    call(k, p, "modctl", sc.MODCTL_LOAD, "rumpdev_cgd")
    assert len(k.shutdown_hooks) == len(hooks) + 1
    call(k, p, "modctl", sc.MODCTL_UNLOAD, "rumpdev_cgd")
    assert k.shutdown_hooks == hooks, "cgd's shutdown hook outlived the driver"
    k.reboot(0)                         # and halting does not call into the unloaded driver
    assert not any("shutdown:" in line for line in k.console_lines)


def test_unload_removes_exactly_what_load_added():
    k = base_kernel()
    p = spawn(k)
    before = snapshot(k)
    call(k, p, "modctl", sc.MODCTL_LOAD, "rumpdev_cgd")
    loaded = snapshot(k)
    assert "cgd" in loaded["slots"] and "cgd0a" in loaded["dev"] and "rcgd3g" in loaded["dev"]
    assert len(loaded["devsw"]) == len(before["devsw"]) + 2
    assert len(loaded["sync"]) == len(before["sync"]) + 1
    call(k, p, "modctl", sc.MODCTL_UNLOAD, "rumpdev_cgd")
    assert snapshot(k) == before
    call(k, p, "modctl", sc.MODCTL_LOAD, "rumpdev_cgd")   # and it comes back the same
    assert snapshot(k) == loaded


def test_context_undoes_every_kind_of_addition():
    k = base_kernel()
    before = snapshot(k)
    undone = []
    cloners = {}

    def fill(ctx):
        ctx.provide("thing", object())
        ctx.sysctl("kern.test.value", "int", 7)
        ctx.add_devsw(250, object())
        ctx.add_devnode("testdev", VCHR, 250, 0)
        ctx.add_fstype("testfs", lambda *a: None)
        ctx.add_sync_hook(lambda: None)
        ctx.add_shutdown_hook(lambda: None)
        ctx.add_shutdown_hook(lambda: None, last=True)
        ctx.add_entry(cloners, "shmif", object(), "interface cloner")   # a table to come
        ctx.record(lambda: undone.append("by hand"))

    ctx = attach(k, fill, provides=("thing",))
    assert snapshot(k) != before
    with k.lock:
        ctx.undo()
    assert snapshot(k) == before and undone == ["by hand"] and cloners == {}


def test_a_failed_attach_leaves_nothing_behind():
    k = base_kernel()
    before = snapshot(k)

    def half(ctx):
        ctx.sysctl("kern.test.half", "int", 1)
        ctx.add_devsw(251, object())
        raise RumpError(errnos.EIO)

    with pytest.raises(RumpError):
        attach(k, half)
    assert snapshot(k) == before


def test_required_and_provided_slots_are_enforced():
    k = boot()
    with k.lock, pytest.raises(AttachError, match="needs vfs"):
        Component("x", lambda ctx: None, requires=("vfs",)).attach(k)
    with k.lock, pytest.raises(AttachError, match="did not provide"):
        Component("y", lambda ctx: None, provides=("thing",)).attach(k)
    assert "thing" not in k.slots
    with pytest.raises(RumpError) as e:
        k.slot("vfs")
    assert e.value.errno == errnos.ENOSYS
    assert k.slot("vfs", None) is None


def test_a_slot_is_provided_once():
    k = base_kernel()
    with pytest.raises(AttachError, match="slot vfs is taken"):
        attach(k, lambda ctx: ctx.provide("vfs", object()), provides=("vfs",))
    with pytest.raises(AttachError, match="without declaring it"):
        attach(k, lambda ctx: ctx.provide("other", object()))
    assert "other" not in k.slots


def test_components_declare_their_registry_name_and_slots():
    for name in components.available():
        comp = importlib.import_module(components.REGISTRY[name].impl).component
        assert comp.name == name
        assert isinstance(comp.requires, tuple) and isinstance(comp.provides, tuple)
    k = boot(*components.available())
    for name in components.available():
        comp = k.loaded[name].component
        assert all(slot in k.slots for slot in comp.provides + comp.requires), name


def test_unloaded_handler_answers_enosys_to_a_call_in_flight():
    k = boot()
    p = spawn(k)
    calls = Syscalls()
    calls("sync")(lambda lwp: ())
    ctx = attach(k, lambda c: c.add_syscalls(calls))
    ent = k.sysent[sc.BY_NAME["sync"].number]      # found by a dispatcher just before the unload
    with k.lock:
        ctx.undo()
    err, _res, _after, _detail = k.run(p, ent, ())
    assert err == errnos.ENOSYS


def test_kernel_code_finds_subsystems_through_slots():
    """No getattr/hasattr on the kernel object: what a component provides is a slot."""
    import pathlib
    import re
    root = pathlib.Path(__file__).resolve().parents[2] / "rumptools" / "kernel"
    pattern = re.compile(r"\b(getattr|hasattr)\((self\.)?(kernel|k)\b")
    bad = [(str(p.relative_to(root)), n) for p in sorted(root.rglob("*.py"))
           for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert bad == []
