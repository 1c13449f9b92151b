"""Where the packages of a merged repo came from: ``pkgorigins`` and the external repos.

The repo of a tag with external repos is merged (``mergerepo_c --koji``): its repodata
then carries an ``origin`` file with one ``[E:]N-V-R.A  URL`` line per package, URL being
the repo the package came from: the tag's own (premerge) repo, or an external repo's URL
with ``$arch`` expanded. The hub's buildroot listing names an rpm of an external repo by
that repo (``location``) instead of by a koji rpm id.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_REPO_NS = "{http://linux.duke.edu/metadata/repo}"
_EPOCH = re.compile(r"^\d+:")


@dataclass(frozen=True)
class ExternalOrigin:
    """The external repo a package came from, as the hub knows it."""

    repo_id: int
    name: str


def origin_href(repomd: str) -> str | None:
    """The ``repodata/...pkgorigins.gz`` path a ``repomd.xml`` names, or None (not merged).

    Raises ValueError when ``repomd`` is not a repomd document.
    """
    try:
        root = ET.fromstring(repomd)
    except ET.ParseError as exc:
        raise ValueError(f"repomd.xml does not parse: {exc}") from None
    for data in root.iter(f"{_REPO_NS}data"):
        if data.get("type") == "origin":
            location = data.find(f"{_REPO_NS}location")
            if location is not None and location.get("href"):
                return location.get("href")
    return None


def parse_pkgorigins(text: str) -> dict[str, str]:
    """N-V-R.A → origin URL (trailing ``/`` dropped) from a pkgorigins file's text."""
    origins = {}
    for line in text.splitlines():
        fields = line.split(None, 2)
        if len(fields) >= 2:
            origins[_EPOCH.sub("", fields[0])] = fields[1].rstrip("/")
    return origins


def external_origins(origins: Mapping[str, str],
                     external_repos: Sequence[Mapping[str, Any]],
                     arch: str) -> dict[str, ExternalOrigin]:
    """The packages of ``origins`` that came from one of the tag's ``external_repos``
    (``getExternalRepoList`` entries), matched by URL with ``$arch`` expanded as the merge
    did. Packages of the tag's own repo, or of a URL no external repo has, are absent."""
    by_url = {
        repo["url"].replace("$arch", arch).rstrip("/"):
            ExternalOrigin(int(repo["external_repo_id"]), str(repo["external_repo_name"]))
        for repo in external_repos
    }
    return {nvra: by_url[url] for nvra, url in origins.items() if url in by_url}
