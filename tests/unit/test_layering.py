"""The package layering of DESIGN.md, read from the import statements.

The ABI package is a leaf (imports nothing of the project); the kernel never
imports the protocol package or the commands; commands never import the kernel
(rump_server, which hosts it, is the one exception)."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "rumptools"


def _imports(path):
    """Absolute dotted names of the project modules a file imports."""
    pkg = path.relative_to(ROOT.parent).with_suffix("").parts[:-1]
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(pkg[:len(pkg) - node.level + 1])
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            yield mod
            for a in node.names:
                yield mod + "." + a.name


def _project_imports(sub):
    for path in sorted((ROOT / sub).rglob("*.py")):
        for name in _imports(path):
            if name.startswith("rumptools"):
                yield path.relative_to(ROOT.parent), name


def test_abi_is_a_leaf():
    bad = [(p, n) for p, n in _project_imports("abi") if not n.startswith("rumptools.abi")]
    assert bad == []


@pytest.mark.parametrize("forbidden", ["rumptools.sp", "rumptools.commands"])
def test_kernel_does_not_import(forbidden):
    bad = [(p, n) for p, n in _project_imports("kernel")
           if n == forbidden or n.startswith(forbidden + ".")]
    assert bad == []


def test_commands_do_not_import_the_kernel():
    bad = [(p, n) for p, n in _project_imports("commands")
           if n.startswith("rumptools.kernel") and p.name != "rump_server.py"]
    assert bad == []
