"""Which arches the parent build task starts a buildArch for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import koji
import pytest

from adjutant.rpm.header import RpmInfo
from adjutant.worker.arches import build_arches, subtask_arch

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


CONFIG = {"id": 1, "name": "f-build", "arches": "x86_64 aarch64 s390x", "extra": {}}
NOARCH = replace(HEADER, buildarchs=("noarch",))


def first(arches: Sequence[str]) -> str:
    return arches[0]


def test_a_subtask_is_scheduled_by_its_canonical_arch_or_its_literal_one() -> None:
    assert subtask_arch("i686", CONFIG) == "i386"
    assert subtask_arch("i686", CONFIG, literal="i?86") == "i686"
    assert subtask_arch("noarch", CONFIG, NOARCH) == "noarch"


def test_a_noarch_subtask_limited_by_exclusive_or_exclude_arch_is_pinned_to_one_left() -> None:
    offered: list[Sequence[str]] = []

    def spy(arches: Sequence[str]) -> str:
        offered.append(arches)
        return arches[-1]

    limited = replace(NOARCH, exclusivearch=("x86_64", "s390x", "noarch"))
    assert subtask_arch("noarch", CONFIG, limited, choose=spy) == "x86_64"
    assert offered == [["s390x", "x86_64"]]
    excluded = replace(NOARCH, excludearch=("s390x",))
    assert subtask_arch("noarch", CONFIG, excluded, choose=first) == "aarch64"


def test_a_restriction_that_leaves_every_tag_arch_keeps_noarch() -> None:
    wide = replace(NOARCH, exclusivearch=("x86_64", "aarch64", "s390x", "ppc64le"))
    assert subtask_arch("noarch", CONFIG, wide) == "noarch"
    assert subtask_arch("noarch", CONFIG, replace(NOARCH, excludearch=("ppc64le",))) == \
        "noarch"


def test_the_tags_noarch_arches_pin_noarch_subtasks_even_without_a_header() -> None:
    config = {**CONFIG, "extra": {"noarch_arches": "aarch64 ppc64le"}}
    assert subtask_arch("noarch", config, choose=first) == "aarch64"


def test_no_arch_left_for_a_noarch_subtask_is_an_error_naming_every_rule() -> None:
    config = {**CONFIG, "extra": {"noarch_arches": "aarch64"}}
    with pytest.raises(koji.BuildError, match="noarch_arches aarch64, ExclusiveArch "
                                              "x86_64, ExcludeArch -"):
        subtask_arch("noarch", config, replace(NOARCH, exclusivearch=("x86_64",)))
