"""The ``adjutant_image_policy`` tag extra: parsing, validating and matching its rules.

The value is JSON (a string, or the object ``koji edit-tag -x`` already decoded)::

    {"rules": [
        {"type": "tag_arch", "tag": "f40-build", "arch": "aarch64", "image": "..."},
        {"type": "tag", "tag": "f40-*", "image": "registry.example/fedora:40"},
        {"type": "task_type", "method": "createrepo", "image": "..."},
        {"type": "default", "image": "registry.example/fedora:latest"}
    ]}

``tag``, ``arch`` and ``method`` are shell-style patterns (``f40-*``). Precedence, whatever
the order in the list: ``tag_arch``, then ``tag``, then ``task_type``, then ``default``;
within one type the first matching rule wins. No match means the config's
``task_image_default``.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adjutant.policy.errors import PolicyError

POLICY_KEY = "adjutant_image_policy"
PRECEDENCE = ("tag_arch", "tag", "task_type", "default")
_REQUIRED = {"tag_arch": ("tag", "arch"), "tag": ("tag",), "task_type": ("method",),
             "default": ()}


@dataclass(frozen=True)
class Rule:
    index: int
    type: str
    image: str
    match: Mapping[str, str]

    def describe(self) -> str:
        fields = " ".join(f"{k}={v}" for k, v in self.match.items())
        return f"rule {self.index} ({self.type}{': ' + fields if fields else ''})"

    def matches(self, tag: str | None, arch: str, method: str) -> bool:
        wanted = {"tag": tag, "arch": arch, "method": method}
        return all(wanted[k] is not None and fnmatch.fnmatchcase(str(wanted[k]), pattern)
                   for k, pattern in self.match.items())

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "type": self.type, "image": self.image, **self.match}


def parse_policy(value: Any, tag: str) -> list[Rule]:
    """The rules of a policy value read from ``tag``'s build config; PolicyError if bad."""
    where = f"tag {tag}: extra {POLICY_KEY}"
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"{where} is not valid JSON ({exc})") from None
    if not isinstance(value, Mapping) or not isinstance(value.get("rules"), Sequence) \
            or isinstance(value.get("rules"), str):
        raise PolicyError(f"{where} must be an object with a \"rules\" list")
    rules = []
    for index, raw in enumerate(value["rules"], start=1):
        if not isinstance(raw, Mapping):
            raise PolicyError(f"{where}: rule {index} is not an object")
        kind = raw.get("type")
        if kind not in _REQUIRED:
            raise PolicyError(f"{where}: rule {index} has unknown type {kind!r} "
                              f"(expected one of {', '.join(PRECEDENCE)})")
        image = raw.get("image")
        if not isinstance(image, str) or not image.strip():
            raise PolicyError(f"{where}: rule {index} ({kind}) has no image")
        missing = [k for k in _REQUIRED[kind] if not isinstance(raw.get(k), str)]
        if missing:
            raise PolicyError(f"{where}: rule {index} ({kind}) needs {', '.join(missing)}")
        unknown = set(raw) - {"type", "image", *_REQUIRED[kind]}
        if unknown:
            raise PolicyError(f"{where}: rule {index} ({kind}) has unknown field(s) "
                              f"{', '.join(sorted(unknown))}")
        rules.append(Rule(index, kind, image.strip(), {k: raw[k] for k in _REQUIRED[kind]}))
    return rules


def select(rules: Sequence[Rule], tag: str | None, arch: str, method: str) -> Rule | None:
    """The winning rule for a task, by type precedence then list order; None if none."""
    for kind in PRECEDENCE:
        for rule in rules:
            if rule.type == kind and rule.matches(tag, arch, method):
                return rule
    return None
