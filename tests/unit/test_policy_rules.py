"""Policy rules: precedence and validation (pure functions)."""

from __future__ import annotations

import json

import pytest

from adjutant.policy.errors import PolicyError
from adjutant.policy.rules import parse_policy, select

POLICY = {"rules": [
    {"type": "default", "image": "img/default"},
    {"type": "task_type", "method": "createrepo", "image": "img/createrepo"},
    {"type": "tag", "tag": "f40-*", "image": "img/f40"},
    {"type": "tag_arch", "tag": "f40-build", "arch": "aarch64", "image": "img/f40-arm"},
]}


@pytest.mark.parametrize(("tag", "arch", "method", "image", "kind"), [
    ("f40-build", "aarch64", "buildArch", "img/f40-arm", "tag_arch"),
    ("f40-build", "x86_64", "buildArch", "img/f40", "tag"),
    ("f40-build", "x86_64", "createrepo", "img/f40", "tag"),  # tag beats task_type
    ("el9-build", "x86_64", "createrepo", "img/createrepo", "task_type"),
    ("el9-build", "x86_64", "buildArch", "img/default", "default"),
])
def test_precedence_tag_arch_tag_task_type_default(tag: str, arch: str, method: str,
                                                   image: str, kind: str) -> None:
    rule = select(parse_policy(POLICY, tag), tag, arch, method)
    assert rule is not None and (rule.image, rule.type) == (image, kind)


def test_no_rule_matches_without_a_default() -> None:
    rules = parse_policy({"rules": [{"type": "tag", "tag": "f40-*", "image": "x"}]}, "el9")
    assert select(rules, "el9", "x86_64", "buildArch") is None


def test_a_json_string_is_accepted() -> None:
    assert parse_policy(json.dumps(POLICY), "t")[0].image == "img/default"


@pytest.mark.parametrize(("value", "message"), [
    ("{not json", "tag f40-build: extra adjutant_image_policy is not valid JSON"),
    ({"rules": "x"}, "must be an object with a \"rules\" list"),
    ({"rules": [{"type": "by_moon", "image": "x"}]}, "rule 1 has unknown type 'by_moon'"),
    ({"rules": [{"type": "tag", "tag": "x"}]}, "rule 1 (tag) has no image"),
    ({"rules": [{"type": "tag_arch", "tag": "x", "image": "i"}]}, "rule 1 (tag_arch) needs arch"),
    ({"rules": [{"type": "default", "image": "i", "colour": "red"}]}, "unknown field(s) colour"),
])
def test_malformed_policies_name_the_tag_and_the_problem(value: object, message: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy(value, "f40-build")
    assert "tag f40-build" in str(err.value) and message in str(err.value)
