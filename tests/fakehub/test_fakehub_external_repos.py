"""getExternalRepoList: a tag's external repos with inheritance and as of an event."""

from __future__ import annotations

from adjutant.testing.fakehub import FakeHub


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
