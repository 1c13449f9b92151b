"""Which arches the parent build task starts a buildArch for."""

from __future__ import annotations

from dataclasses import replace

import koji
import pytest

from adjutant.rpm.header import RpmInfo
from adjutant.worker.arches import build_arches

HEADER = RpmInfo(name="p", version="1", release="1", epoch=None, arch="x86_64",
                 is_source=True, sourcerpm=None, payloadhash="", size=0, buildtime=0,
                 requires=(), requirements=(), exclusivearch=(), excludearch=(),
                 buildarchs=(), vendor=None, packager=None, distribution=None)


def test_every_tag_arch_canonical_and_once() -> None:
    assert build_arches(["x86_64", "i686", "i386", "aarch64"], HEADER) == \
        ["x86_64", "i386", "aarch64"]


def test_noarch_packages_build_once() -> None:
    assert build_arches(["x86_64", "aarch64"], replace(HEADER, buildarchs=("noarch",))) == \
        ["noarch"]


def test_exclusive_and_exclude_arch_narrow_the_list() -> None:
    assert build_arches(["x86_64", "aarch64", "ppc64le"],
                        replace(HEADER, exclusivearch=("x86_64", "ppc64le"),
                                excludearch=("ppc64le",))) == ["x86_64"]


def test_extra_arches_and_scratch_override() -> None:
    assert build_arches(["x86_64"], HEADER, extra_arches=["aarch64"]) == ["x86_64", "aarch64"]
    assert build_arches(["x86_64"], HEADER, override=["s390x"]) == ["s390x"]


def test_nothing_left_is_an_error_naming_the_restrictions() -> None:
    with pytest.raises(koji.BuildError, match="ExclusiveArch \\(s390x\\)"):
        build_arches(["x86_64"], replace(HEADER, exclusivearch=("s390x",)))


def test_literal_task_arches_are_kept_as_given() -> None:
    """kojid.conf's literal_task_arches: matching arches are not made canonical."""
    assert build_arches(["x86_64", "i686", "armv7hl"], HEADER, literal="i?86 armv7*") == \
        ["x86_64", "i686", "armv7hl"]
