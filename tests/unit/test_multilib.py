"""The devel multilib method's decision and the ``--multilib`` config's reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from adjutant.rpm.header import RpmInfo
from adjutant.worker.multilib import (
    MultilibConfig,
    MultilibConfigError,
    config_path,
    devel_selects,
)

CONFIG = MultilibConfig.parse("""
[runtime]
white = valgrind
    wine
black = httpd
[devel]
white = special-tool
black = httpd-devel
""", "multilib.conf")


def rpm(name: str, files: tuple[str, ...] = (), arch: str = "x86_64",
        provides: tuple[str, ...] = ()) -> RpmInfo:
    return RpmInfo(name=name, version="1", release="1", epoch=None, arch=arch,
                   is_source=False, sourcerpm=None, payloadhash="", size=0, buildtime=0,
                   requires=(), requirements=(), exclusivearch=(), excludearch=(),
                   buildarchs=(), vendor=None, packager=None, distribution=None,
                   provides=provides or (name,), files=files)


@pytest.mark.parametrize(("info", "selected"), [
    (rpm("libfoo", ("/usr/lib64/libfoo.so.1",)), True),
    (rpm("libfoo", ("/usr/lib64/libfoo.so",)), False),
    (rpm("foo-devel", ("/usr/include/foo.h",)), True),
    (rpm("foo-static", ("/usr/lib64/libfoo.a",)), True),
    (rpm("ghc-foo-devel", ("/usr/include/foo.h",)), False),
    (rpm("foo", ("/usr/bin/foo",)), False),
    (rpm("pam-mod", ("/lib64/security/pam_x.so",)), True),
    (rpm("nss-mod", ("/lib64/libnss_x.so",)), True),
    (rpm("gst", ("/usr/lib64/gstreamer-1.0/libx.so",)), True),
    (rpm("qtplug", ("/usr/lib64/qt5/plugins/styles/x.so",)), True),
    (rpm("ldconf", ("/etc/ld.so.conf.d/x.conf",)), True),
    (rpm("wine-x", ("/usr/lib64/wine/x.so",)), True),
    (rpm("sane-x", ("/usr/lib64/sane/libsane-x.so.1",)), True),
    (rpm("sane-y", ("/usr/lib64/sane/other.so",)), False),
    (rpm("deep", ("/usr/lib64/foo/libx.so.1",)), False),
    (rpm("gdb", ("/usr/bin/gdb",)), True),
    (rpm("gdb", ("/usr/bin/gdb",), arch="i686"), False),
    (rpm("valgrind", ("/usr/bin/valgrind",)), True),
    (rpm("special-tool", ("/usr/bin/x",)), True),
    (rpm("httpd", ("/usr/lib64/libhttpd.so.1",)), False),
    (rpm("httpd-devel", ("/usr/include/httpd.h",)), False),
    # python-multilib matched names within the list as one string; here a list is a list.
    (rpm("http", ("/usr/bin/x",)), False),
    (rpm("kernel", ("/boot/vmlinuz",), provides=("kernel",)), True),
    (rpm("kernel-headers", ("/usr/include/linux/x.h",),
         provides=("kernel-headers", "glibc-kernheaders-devel")), True),
    (rpm("kernel-foo", ("/x",), provides=("kernel-foo", "kernel-devel")), True),
])
def test_devel_method(info: RpmInfo, selected: bool) -> None:
    assert devel_selects(CONFIG, info) is selected


def test_a_config_without_the_sections_says_what_it_needs() -> None:
    with pytest.raises(MultilibConfigError, match=r"multilib.conf is not a usable multilib "
                       r"config .*needs \[runtime\] and \[devel\] sections"):
        MultilibConfig.parse("[runtime]\nwhite = a\n", "multilib.conf")
    with pytest.raises(MultilibConfigError):
        MultilibConfig.parse("not an ini file", "x.conf")


def test_config_path_stays_inside_the_work_dir(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "cli-dist-repo" / "a").mkdir(parents=True)
    conf = work / "cli-dist-repo" / "a" / "multilib.conf"
    conf.write_text("x")
    assert config_path(work, "cli-dist-repo/a/multilib.conf") == conf
    secret = tmp_path / "secret"
    secret.write_text("host file")
    (work / "cli-dist-repo" / "link.conf").symlink_to(secret)
    (work / "dirlink").symlink_to(work / "cli-dist-repo")
    for bad, message in [("/etc/passwd", "not a path inside"),
                         ("../secret", "not a path inside"),
                         ("cli-dist-repo/link.conf", "is a link"),
                         ("dirlink/a/multilib.conf", "is a link"),
                         ("cli-dist-repo/none.conf", "is not in the hub's work dir"),
                         ("", "not a path inside")]:
        with pytest.raises(MultilibConfigError, match=message):
            config_path(work, bad)
