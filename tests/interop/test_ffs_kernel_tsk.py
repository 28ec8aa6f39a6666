"""What rumpfs_ffs writes is read by an independent reader: The Sleuth Kit
lists every file of an image we populated (fls -r) and icat gives the same
bytes, for UFS1 and for UFS2."""
import pytest

from tests.ffs_helpers import make_tree, sha, tsk_cat, tsk_files, tsk_link, tool
from tests.ffs_kernel_kit import Box, make_image


@pytest.mark.parametrize("ufs,params", [(1, {}), (2, {}), (1, {"bsize": 16384, "fsize": 2048}),
                                        (2, {"bsize": 32768, "fsize": 4096})])
def test_sleuthkit_reads_what_we_wrote(tmp_path, ufs, params):
    tool("fls", "sleuthkit")
    root = tmp_path / "src"
    root.mkdir()
    want = make_tree(str(root))
    img = make_image(tmp_path / "w.img", 65536, ufs=ufs, **params)
    b = Box(img)
    try:
        for rel in sorted(want):
            if want[rel][0] == "d":
                b.c("mkdir", "/mnt/" + rel, 0o755)
        for rel in sorted(want):
            e = want[rel]
            if e[0] == "f" and rel != "hardlink":
                b.put("/mnt/" + rel, e[1])
            elif e[0] == "l":
                b.c("symlink", e[1].decode(), "/mnt/" + rel)
        b.c("link", "/mnt/small", "/mnt/hardlink")
        b.unmount()
        assert not b.bugs()
    finally:
        b.close()
    files = tsk_files(img)
    assert set(files) == set(want)
    for rel, e in want.items():
        kind, ino = files[rel]
        if e[0] == "f":
            assert kind == "r/r" and sha(tsk_cat(img, ino)) == sha(e[1]), rel
        elif e[0] == "l":
            assert kind == "l/l" and tsk_link(img, ino) == e[1], rel
        else:
            assert kind == "d/d", rel
