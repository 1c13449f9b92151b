"""getExternalRepoList: a tag's external repos with inheritance and as of an event."""

from __future__ import annotations

import koji
import pytest

from tests.support.fakehub import FakeHub


def test_external_repos_of_a_tag_follow_inheritance_priority_and_events(tmp_path) -> None:
    with FakeHub(tmp_path) as hub:
        parent = hub.add_tag("el9-base")
        child = hub.add_tag("el9-build", parents=["el9-base"])
        hub.add_external_repo("centos-baseos", "https://mirror.example/baseos/$arch/")
        hub.add_external_repo("centos-appstream", "https://mirror.example/appstream/$arch/")
        hub.add_external_repo("epel", "https://mirror.example/epel/$arch/")
        hub.add_external_repo_to_tag(parent, "centos-baseos", priority=5)
        hub.add_external_repo_to_tag(parent, "epel", priority=20, arches="x86_64")
        hub.add_external_repo_to_tag(child, "centos-appstream", priority=10)
        before_epel_on_child = hub.client().getLastEvent()["id"]
        hub.add_external_repo_to_tag(child, "epel", priority=1)
        session = hub.client()

        listed = session.getExternalRepoList(child)
        assert [(r["external_repo_name"], r["tag_name"], r["priority"]) for r in listed] == [
            ("epel", "el9-build", 1), ("centos-appstream", "el9-build", 10),
            ("centos-baseos", "el9-base", 5)]
        assert listed[0]["url"] == "https://mirror.example/epel/$arch/"
        assert listed[0]["merge_mode"] == "koji"

        earlier = session.getExternalRepoList("el9-build", event=before_epel_on_child)
        assert [(r["external_repo_name"], r["tag_name"], r["arches"]) for r in earlier] == [
            ("centos-appstream", "el9-build", None), ("centos-baseos", "el9-base", None),
            ("epel", "el9-base", "x86_64")]
        assert session.getExternalRepoList(parent, event=0) == []


def test_attaching_follows_the_hubs_rules(tmp_path) -> None:
    with FakeHub(tmp_path) as hub:
        tag = hub.add_tag("el9-build")
        hub.add_external_repo("baseos", "https://mirror.example/baseos")
        hub.add_external_repo("epel", "https://mirror.example/epel/")
        hub.add_external_repo_to_tag(tag, "baseos", priority=5, arches="x86_64,aarch64")
        with pytest.raises(koji.GenericError, match="already associated with external repo"):
            hub.add_external_repo_to_tag(tag, "baseos", priority=6)
        with pytest.raises(koji.GenericError, match="at priority 5"):
            hub.add_external_repo_to_tag(tag, "epel", priority=5)
        with pytest.raises(koji.GenericError, match="No such merge mode: fancy"):
            hub.add_external_repo_to_tag(tag, "epel", priority=6, merge_mode="fancy")
        [row] = hub.client().getExternalRepoList(tag)
        assert row["url"] == "https://mirror.example/baseos/"  # the hub adds the slash
        assert row["arches"] == "x86_64 aarch64"
