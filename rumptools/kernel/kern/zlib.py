"""The `rumpkern_z` component: zlib in the kernel (Python's zlib)."""
from .module import Component

component = Component("rumpkern_z", desc="zlib compression")
