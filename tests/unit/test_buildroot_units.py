"""Buildroot pieces that need no engine: requirement checks, package lists, the cache index."""

from __future__ import annotations

from pathlib import Path

import koji
import pytest

from adjutant.buildroot.cache import BuildrootCache, CacheEntry
from adjutant.buildroot.packages import added, parse_rpm_list, parse_rpmlist
from adjutant.plugin import BuildrootRequest
from adjutant.worker.buildroot import check_requirements


@pytest.mark.parametrize("bad", ["--setopt=reposdir=/tmp", "-x", "@development",
                                 "foo\n--nogpgcheck", ""])
def test_requirements_that_are_not_dependencies_are_refused(bad: str) -> None:
    with pytest.raises(koji.BuildError, match="refusing BuildRequires"):
        check_requirements(["gcc", bad])


def test_ordinary_requirements_pass() -> None:
    check_requirements(["gcc", "foo >= 1.2", "(a or b)", "/usr/bin/python3", "perl(Foo::Bar)"])


def test_rpm_lists_parse_and_diff() -> None:
    base = parse_rpm_list("a\t1\t1\t(none)\tnoarch\tabc\t10\t5\n"
                          "gpg-pubkey\t1\t1\t(none)\t(none)\t(none)\t0\t0\n")
    after = parse_rpm_list("a\t1\t1\t(none)\tnoarch\tabc\t10\t5\n"
                           "b\t2\t3\t1\tx86_64\tdef\t20\t6\n")
    new = added(after, base)
    assert [p.nvra for p in base] == ["a-1-1.noarch"]  # gpg-pubkey skipped
    assert [p.nvra for p in new] == ["b-2-3.x86_64"] and new[0].epoch == 1
    ids = parse_rpmlist('{"id": 7, "name": "b", "version": "2", "release": "3", '
                        '"arch": "x86_64"}\n')
    assert new[0].hub_entry(ids) == {"name": "b", "version": "2", "release": "3", "epoch": 1,
                                     "arch": "x86_64", "payloadhash": "def", "size": 20,
                                     "buildtime": 6, "id": 7}


def _request(**changes: object) -> BuildrootRequest:
    values: dict[str, object] = dict(base_image="img", base_image_id="sha256:1", arch="x86_64",
                                     repo_id=3, repo_url="file:///repo", groups=("build",),
                                     packages=("a", "b"))
    values.update(changes)
    return BuildrootRequest(**values)  # type: ignore[arg-type]


def test_the_key_changes_with_what_goes_into_the_buildroot() -> None:
    key = _request().key
    assert _request(packages=("b", "a")).key == key  # order does not matter
    for change in ({"base_image_id": "sha256:2"}, {"repo_id": 4}, {"arch": "aarch64"},
                   {"groups": ("srpm-build",)}, {"packages": ("a",)},
                   {"repo_url": "http://other-hub/repo"}):
        assert _request(**change).key != key, change


def test_index_entries_are_kept_per_runtime(tmp_path: Path) -> None:
    cache = BuildrootCache(tmp_path)

    def entry(runtime: str) -> CacheEntry:
        return CacheEntry(key="k" * 64, image=f"{runtime}-img", image_id="sha256:x",
                          runtime=runtime, base_image="b", base_image_id="sha256:b",
                          repo_id=1, arch="x86_64", groups=["build"], requirements=[],
                          installed=[], last_used=1.0)

    cache.store(entry("podman"))
    cache.store(entry("docker"))
    assert sorted(e.image for e in cache.entries()) == ["docker-img", "podman-img"]
