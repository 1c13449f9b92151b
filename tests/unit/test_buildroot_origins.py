"""Reading a merged repo's pkgorigins and matching origins to the tag's external repos."""

from __future__ import annotations

import pytest

from adjutant.buildroot.origins import (
    ExternalOrigin,
    external_origins,
    origin_href,
    parse_pkgorigins,
)

REPOMD = """<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1795675725</revision>
  <data type="primary">
    <location href="repodata/0861-primary.xml.gz"/>
  </data>
  <data type="origin">
    <checksum type="sha256">1ccb</checksum>
    <location href="repodata/1ccb-pkgorigins.gz"/>
  </data>
</repomd>
"""


def test_the_origin_file_is_found_in_repomd_and_absent_from_an_unmerged_repo() -> None:
    assert origin_href(REPOMD) == "repodata/1ccb-pkgorigins.gz"
    unmerged = REPOMD.replace('type="origin"', 'type="other"')
    assert origin_href(unmerged) is None
    with pytest.raises(ValueError, match="does not parse"):
        origin_href("<repomd")


def test_pkgorigins_lines_drop_epochs_and_trailing_slashes() -> None:
    text = ("adjutant-hello-1.0-1.noarch\tfile:///work/repo_7_premerge/\n"
            "1:bash-5.1.8-9.el9.x86_64\thttps://mirror.example/baseos/x86_64/\n"
            "\n"
            "garbage\n")
    assert parse_pkgorigins(text) == {
        "adjutant-hello-1.0-1.noarch": "file:///work/repo_7_premerge",
        "bash-5.1.8-9.el9.x86_64": "https://mirror.example/baseos/x86_64",
    }


def test_origins_match_external_repos_by_url_with_arch_expanded() -> None:
    origins = {
        "bash-5.1.8-9.el9.x86_64": "https://mirror.example/baseos/x86_64",
        "adjutant-hello-1.0-1.noarch": "file:///work/repo_7_premerge",
        "stray-1-1.noarch": "https://elsewhere.example/repo",
    }
    repos = [{"external_repo_id": 4, "external_repo_name": "baseos",
              "url": "https://mirror.example/baseos/$arch/"},
             {"external_repo_id": 5, "external_repo_name": "epel",
              "url": "https://mirror.example/epel/$arch/"}]
    assert external_origins(origins, repos, "x86_64") == {
        "bash-5.1.8-9.el9.x86_64": ExternalOrigin(4, "baseos")}
    assert external_origins(origins, repos, "aarch64") == {}
