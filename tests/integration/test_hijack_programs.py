"""Real programs under librumphijack, each checked by its result: coreutils, tar, sh
pipelines, python3 scripts; trees compared by content hashes with the same work on the host."""
import hashlib
import os
import shutil
import subprocess
import textwrap

import pytest

from .hijackkit import compile_c, host_tree, ok, run, rump_tree


@pytest.fixture
def server(servers):
    """A server with file systems."""
    return servers("-lrumpvfs")

SRC = "/usr/share/doc/bash"


def need(*tools):
    for t in tools:
        if shutil.which(t) is None:
            pytest.skip("%s is not installed" % t)


def test_ls_tutorial_listing(server):
    out = ok(server, ["ls", "-l", "/rump"]).decode().splitlines()
    assert out[0].startswith("total ")
    assert out[1].startswith("drwxr-xr-x") and out[1].endswith(" dev")


def test_cp_R_and_ls_lR_match_the_host(server, tmp_path):
    ok(server, ["mkdir", "-p", "/rump/src/deep/er"])
    ok(server, ["cp", "-R", SRC, "/rump/src"])
    assert rump_tree(server, "/rump/src/bash") == host_tree(SRC)
    lr = ok(server, ["ls", "-lR", "/rump/src"]).decode()
    assert "/rump/src/deep/er:" in lr and "README" in lr
    # ls -l sizes are the host files' sizes
    names = {line.split()[-1]: int(line.split()[4]) for line in
             ok(server, ["ls", "-l", "/rump/src/bash"]).decode().splitlines()[1:]}
    assert names == {n: os.lstat(os.path.join(SRC, n)).st_size for n in os.listdir(SRC)}
    # and back to the host
    ok(server, ["cp", "-R", "/rump/src/bash", str(tmp_path / "back")])
    assert host_tree(str(tmp_path / "back")) == host_tree(SRC)


MTIMES = "import os, sys, json; t = sys.argv[1]; " \
         "print(json.dumps(sorted((n, os.lstat(os.path.join(t, n)).st_mtime_ns // 1000) for n in os.listdir(t))))"


def test_cp_a_keeps_times_both_ways(server, tmp_path):
    ok(server, ["cp", "-a", SRC, "/rump/a1"])
    ok(server, ["cp", "-a", "/rump/a1", "/rump/a2"])
    ok(server, ["cp", "-a", "/rump/a2", str(tmp_path / "a3")])
    assert host_tree(str(tmp_path / "a3")) == host_tree(SRC)
    host = subprocess.run(["python3", "-c", MTIMES, SRC], capture_output=True, check=True).stdout
    assert ok(server, ["python3", "-c", MTIMES, "/rump/a2"]) == host
    assert subprocess.run(["python3", "-c", MTIMES, str(tmp_path / "a3")], capture_output=True,
                          check=True).stdout == host


def test_cat_sha256sum_dd(server, tmp_path):
    data = os.urandom(300000)
    host = tmp_path / "blob"
    host.write_bytes(data)
    want = hashlib.sha256(data).hexdigest()
    ok(server, "cat %s > /rump/blob" % host)
    assert ok(server, ["sha256sum", "/rump/blob"]).split()[0].decode() == want
    assert hashlib.sha256(ok(server, ["cat", "/rump/blob"])).hexdigest() == want
    ok(server, ["dd", "if=/rump/blob", "of=/rump/blob2", "bs=4096"])
    ok(server, ["dd", "if=/rump/blob2", "of=%s" % (tmp_path / "out"), "bs=1000", "count=100"])
    assert (tmp_path / "out").read_bytes() == data[:100000]
    assert ok(server, "sha256sum < /rump/blob2").split()[0].decode() == want


def test_mv_rm_mkdir_ln_stat_touch_df(server):
    ok(server, ["mkdir", "-p", "/rump/a/b/c"])
    ok(server, "echo one > /rump/a/b/c/f")
    ok(server, ["mv", "/rump/a/b/c/f", "/rump/a/g"])
    assert ok(server, ["cat", "/rump/a/g"]) == b"one\n"
    ok(server, ["ln", "-s", "g", "/rump/a/s"])
    assert ok(server, ["readlink", "/rump/a/s"]) == b"g\n"
    assert ok(server, ["cat", "/rump/a/s"]) == b"one\n"
    ok(server, ["ln", "/rump/a/g", "/rump/a/h"])
    assert ok(server, ["stat", "-c", "%h %s %F", "/rump/a/g"]) == b"2 4 regular file\n"
    ok(server, ["touch", "-d", "2001-02-03 04:05:06", "/rump/a/g"])
    assert ok(server, ["stat", "-c", "%y", "/rump/a/g"]).startswith(b"2001-02-03 04:05:06")
    ok(server, ["touch", "/rump/a/new"])
    assert ok(server, ["stat", "-c", "%s", "/rump/a/new"]) == b"0\n"
    df = ok(server, ["df", "-k", "/rump"]).decode().splitlines()
    assert df[1].split()[-1] == "/rump"
    ok(server, ["rm", "-r", "/rump/a/b"])
    assert sorted(ok(server, ["ls", "/rump/a"]).split()) == [b"g", b"h", b"new", b"s"]

def test_mv_across_kernels(server, tmp_path):
    """rename gives EXDEV between kernels; mv then copies and removes, both ways."""
    ok(server, "echo moved > /rump/m")
    ok(server, ["mv", "/rump/m", str(tmp_path / "m")])
    assert (tmp_path / "m").read_bytes() == b"moved\n"
    assert run(server, ["ls", "/rump/m"]).returncode != 0
    ok(server, ["mv", str(tmp_path / "m"), "/rump/back"])
    assert ok(server, ["cat", "/rump/back"]) == b"moved\n" and not (tmp_path / "m").exists()


def test_find_du(server):
    ok(server, ["cp", "-R", SRC, "/rump/doc"])
    found = sorted(ok(server, ["find", "/rump/doc"]).decode().split())
    want = sorted(["/rump/doc"] + [os.path.join("/rump/doc", n) for n in os.listdir(SRC)])
    assert found == want
    assert ok(server, ["find", "/rump/doc", "-name", "README*", "-type", "f"]).count(b"\n") == \
        len([n for n in os.listdir(SRC) if n.startswith("README") and not os.path.islink(os.path.join(SRC, n))])
    du = int(ok(server, ["du", "-s", "-B1", "--apparent-size", "/rump/doc"]).split()[0])
    assert du >= sum(os.lstat(os.path.join(SRC, n)).st_size for n in os.listdir(SRC))


def test_tar_both_ways(server, tmp_path):
    need("tar")
    # host archive unpacked into the kernel
    subprocess.run(["tar", "-C", "/usr/share/doc", "-cf", str(tmp_path / "in.tar"), "bash"], check=True)
    ok(server, ["mkdir", "/rump/x"])
    ok(server, ["tar", "-C", "/rump/x", "-xf", str(tmp_path / "in.tar")])
    assert rump_tree(server, "/rump/x/bash") == host_tree(SRC)
    # kernel tree archived, with the archive itself in the kernel, then unpacked on the host
    ok(server, ["tar", "-C", "/rump/x", "-cf", "/rump/out.tar", "bash"])
    ok(server, "cat /rump/out.tar > %s" % (tmp_path / "out.tar"))
    os.mkdir(tmp_path / "unpacked")
    subprocess.run(["tar", "-C", str(tmp_path / "unpacked"), "-xf", str(tmp_path / "out.tar")], check=True)
    assert host_tree(str(tmp_path / "unpacked" / "bash")) == host_tree(SRC)
    # a pipe between two hijacked tars
    ok(server, "mkdir /rump/y && tar -C /rump/x -cf - bash | tar -C /rump/y -xf -")
    assert rump_tree(server, "/rump/y/bash") == host_tree(SRC)


def test_cpio_both_ways(server, tmp_path):
    need("cpio")
    # out of the host into an archive in the kernel, unpacked inside the kernel
    ok(server, "cd /usr/share/doc && find bash | cpio -o -H newc > /rump/a.cpio 2>/dev/null")
    ok(server, "mkdir /rump/c && cd /rump/c && cpio -i -d < /rump/a.cpio 2>/dev/null")
    assert rump_tree(server, "/rump/c/bash") == host_tree(SRC)
    # out of the kernel, unpacked on the host
    ok(server, "cd /rump/c && find bash | cpio -o -H newc 2>/dev/null > %s" % (tmp_path / "b.cpio"))
    subprocess.run("mkdir %s/u && cd %s/u && cpio -i -d < ../b.cpio 2>/dev/null" % (tmp_path, tmp_path),
                   shell=True, check=True)
    assert host_tree(str(tmp_path / "u" / "bash")) == host_tree(SRC)


def test_sh_pipelines_and_redirections(server):
    script = textwrap.dedent("""
        set -e
        mkdir /rump/sh
        cd /rump/sh
        echo hi > f
        echo more >> f
        cat f | tr a-z A-Z > g
        wc -l < g > count
        exec 3< g
        read first <&3
        echo "$first" > first
        ls > list
        pwd > where
    """)
    ok(server, ["sh", "-c", script])
    assert ok(server, ["cat", "/rump/sh/g"]) == b"HI\nMORE\n"
    assert ok(server, ["cat", "/rump/sh/count"]).strip() == b"2"
    assert ok(server, ["cat", "/rump/sh/first"]) == b"HI\n"
    assert ok(server, ["cat", "/rump/sh/list"]).split() == [b"count", b"f", b"first", b"g", b"list"]
    assert ok(server, ["cat", "/rump/sh/where"]) == b"/rump/sh\n"


def test_bash_builtins_on_redirected_stdio(server):
    """bash's echo and printf write through stdio, which the library swaps for a stream
    on the rump descriptor while 1 is one."""
    ok(server, ["bash", "-c", "echo builtin > /rump/b; printf '%s\\n' two >> /rump/b; "
                              "/bin/echo external >> /rump/b; sort < /rump/b > /rump/sorted"])
    assert ok(server, ["cat", "/rump/b"]) == b"builtin\ntwo\nexternal\n"
    assert ok(server, ["cat", "/rump/sorted"]) == b"builtin\nexternal\ntwo\n"


def test_hijacked_shell_runs_hijacked_children(server):
    """fork + exec keep the kernel process: the children see the cwd and a descriptor."""
    out = ok(server, ["bash", "-c", "mkdir /rump/kids && cd /rump/kids && echo data > f && "
                                    "sh -c 'pwd; cat f; ls' && exec 4< f && cat <&4 && "
                                    "python3 -c 'import os; print(os.getcwd(), os.listdir())'"])
    assert out.decode().splitlines() == ["/rump/kids", "data", "f", "data", "/rump/kids ['f']"]


PYTHON = textwrap.dedent("""
    import os, shutil, subprocess
    os.makedirs("/rump/py/a/b")
    with open("/rump/py/a/b/file", "w") as f:
        f.write("text" * 1000)
    shutil.copytree("/usr/share/doc/bash", "/rump/py/copy")
    walked = sorted(os.path.join(r, n) for r, d, fs in os.walk("/rump/py") for n in d + fs)
    print(len(walked))
    print(sorted(e.name for e in os.scandir("/rump/py")))
    os.chdir("/rump/py/a")
    print(os.getcwd(), os.listdir("."), os.path.getsize("b/file"))
    print(subprocess.run(["cat", "b/file"], capture_output=True).stdout[:8].decode())
    print(subprocess.run(["ls", "b"], capture_output=True, close_fds=False).stdout.decode().strip())
    print(os.path.realpath("b/../b/file"))
    shutil.copy("/rump/py/a/b/file", "/rump/py/dup")
    print(open("/rump/py/dup").read() == "text" * 1000)
    try:
        os.getxattr("/rump/py/dup", "user.x")
    except OSError as e:
        print(e.strerror)
""")


def test_python3_scripts(server):
    out = ok(server, ["python3", "-c", PYTHON]).decode().splitlines()
    assert out[0] == str(3 + len(os.listdir(SRC)) + 1)
    assert out[1] == "['a', 'copy']"
    assert out[2] == "/rump/py/a ['b'] 4000"
    assert out[3:] == ["texttext", "file", "/rump/py/a/b/file", "True", "Operation not supported"]
    assert rump_tree(server, "/rump/py/copy") == host_tree(SRC)


def test_mmap_is_refused_clearly(server):
    script = textwrap.dedent("""
        import mmap, os
        fd = os.open("/rump/m", os.O_CREAT | os.O_RDWR)
        os.write(fd, b"x" * 4096)
        try:
            mmap.mmap(fd, 4096)
        except OSError as e:
            print(e.strerror)
    """)
    assert ok(server, ["python3", "-c", script]) == b"No such device\n"


CNFTW = r"""
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <string.h>

static int show(const char *path, const struct stat *sb, int type, struct FTW *f) {
    const char *t = type == FTW_F ? "f" : type == FTW_DP ? "dp" : type == FTW_D ? "d" :
                    type == FTW_SL ? "sl" : "other";
    printf("%s %d %s %lld\n", t, f->level, path + f->base, type == FTW_F ? (long long)sb->st_size : 0LL);
    return 0;
}

int main(int argc, char **argv) {
    return nftw(argv[1], show, 8, FTW_PHYS | FTW_DEPTH) != 0;
}
"""


def test_nftw_walks_a_kernel_tree_like_the_host(server, tmp_path):
    compile_c(tmp_path, "w", CNFTW)
    ok(server, ["cp", "-a", SRC, "/rump/walk"])
    shutil.copytree(SRC, str(tmp_path / "walk"), symlinks=True)
    rump = sorted(ok(server, [str(tmp_path / "w"), "/rump/walk"]).decode().splitlines())
    host = sorted(subprocess.run([str(tmp_path / "w"), str(tmp_path / "walk")], capture_output=True,
                                 check=True).stdout.decode().splitlines())
    assert rump == host and len(rump) == len(os.listdir(SRC)) + 1


CGLOB = r"""
#include <glob.h>
#include <stdio.h>

int main(int argc, char **argv) {
    glob_t g;
    int r = glob(argv[1], GLOB_MARK, NULL, &g);
    if (r != 0) { printf("glob %d\n", r); return 1; }
    for (size_t i = 0; i < g.gl_pathc; i++) puts(g.gl_pathv[i]);
    globfree(&g);
    return 0;
}
"""


def test_glob_of_kernel_paths(server, tmp_path):
    compile_c(tmp_path, "g", CGLOB)
    ok(server, ["mkdir", "-p", "/rump/gl/sub"])
    ok(server, "touch /rump/gl/a.txt /rump/gl/b.txt /rump/gl/c.dat")
    assert ok(server, [str(tmp_path / "g"), "/rump/gl/*"]).decode().split() == \
        ["/rump/gl/a.txt", "/rump/gl/b.txt", "/rump/gl/c.dat", "/rump/gl/sub/"]
    assert ok(server, ["sh", "-c", "cd /rump/gl && %s '*.txt'" % (tmp_path / "g")]).split() == \
        [b"a.txt", b"b.txt"]
