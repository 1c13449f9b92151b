"""The buildroot SBOM: the inventory read as hostile input, the SPDX document it makes
(validated by spdx-tools, a maintained SPDX validator), and reading it back."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from adjutant.plugin.types import BuildrootPackages
from adjutant.sbom.compare import diff, diff_lines, read_sbom
from adjutant.sbom.facts import document_text, package_origins
from adjutant.sbom.inventory import BuildrootInventory, InventoryStore, parse_inventory
from adjutant.sbom.spdx import Artifact, BuildFacts, Origin, spdx_document, vcs_location

SHA = "a" * 64
MD5 = "b" * 32
COMMIT = "0123456789abcdef0123456789abcdef01234567"

RPMS = "\n".join([
    f"bash\t(none)\t5.2\t1.fc40\tx86_64\t{MD5}\t{SHA}",
    f"openssl-libs\t1\t3.1.4\t2.fc40\tx86_64\t{MD5}\t{SHA}",
    f"from-external\t(none)\t1.0\t1\tnoarch\t{MD5}\t{SHA}",
    f"image-rpm\t(none)\t2\t3\tnoarch\t{MD5}\t{SHA}",
    "gpg-pubkey\t(none)\tabc\tdef\t(none)\t(none)\t(none)",  # skipped, as kojid does
    "../../etc/passwd\t(none)\t1\t1\tx86_64\tzz\tzz",  # not a package name: dropped
    "short\tline",
])
DEBS = "\n".join([
    "ii \tcoreutils\t9.1-1\tamd64",
    "ii \tlibc6:amd64\t2.36-9+deb12u4\tamd64",
    "ii \tperl-base\t5.36.0-7+deb12u1\tamd64",
    "ii \tsystemd\t1:252.22-1~deb12u1\tamd64",
    "rc \tremoved\t1.0-1\tamd64",  # config files only: not installed
])
SUMS = f"{SHA}  coreutils.md5sums\n{SHA}  libc6:amd64.md5sums\nnot a line\n"
TOOLS = "rpm\tRPM version 4.18.0\ndnf\t4.14.0\n"


def inventory() -> BuildrootInventory:
    return parse_inventory({"rpm.tsv": RPMS, "deb.tsv": DEBS, "deb-sums.txt": SUMS,
                            "tools.txt": TOOLS})


def entry(name: str, version: str, release: str, arch: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "version": version, "release": release, "arch": arch,
            "epoch": None, "payloadhash": MD5, "size": 1, "buildtime": 1, **extra}


def facts(inv: BuildrootInventory, outputs: tuple[Artifact, ...] = ()) -> BuildFacts:
    packages = BuildrootPackages(
        initial=(entry("bash", "5.2", "1.fc40", "x86_64"),
                 entry("openssl-libs", "3.1.4", "2.fc40", "x86_64"),
                 entry("from-external", "1.0", "1", "noarch", external_repo="epel")),
        image_only=("image-rpm-2-3.noarch",))
    return BuildFacts(
        subject="buildArch task 7 of foo-1-1.src.rpm on x86_64",
        namespace="https://koji.example.org/sbom/builder1/task-7/x", inventory=inv,
        origin=package_origins(packages, Origin("tag-repo", "repo 42 of tag f40-build",
                                                "https://koji.example.org/repos/f40-build/42"),
                               "localhost/img:1", f"sha256:{SHA}"),
        image="localhost/img:1", image_id=f"sha256:{SHA}", buildroot_image_id=f"sha256:{SHA}",
        tools=[("koji-adjutant", "0.1"), ("podman", "0.1")], host="builder1",
        srpm=Artifact("foo-1-1.src.rpm", SHA, "foo", "1-1", "src", MD5),
        outputs=outputs, scm_url="git+https://src.example.org/rpms/foo.git#main", scm_commit=COMMIT)


def test_the_inventory_keeps_well_formed_lines_only() -> None:
    inv = inventory()
    names = [(p.kind, p.name) for p in inv.packages]
    assert names == [("deb", "coreutils"), ("deb", "libc6"), ("deb", "perl-base"),
                     ("deb", "systemd"), ("rpm", "bash"), ("rpm", "from-external"),
                     ("rpm", "image-rpm"), ("rpm", "openssl-libs")]
    by_name = {p.name: p for p in inv.packages}
    assert by_name["openssl-libs"].epoch == 1 and by_name["openssl-libs"].evr == "1:3.1.4-2.fc40"
    assert by_name["bash"].digests == {"MD5": MD5, "SHA256": SHA}
    assert by_name["systemd"].epoch == 1 and by_name["systemd"].version == "252.22"
    assert by_name["systemd"].release == "1~deb12u1"
    assert by_name["libc6"].digests == {"SHA256": SHA}  # multi-arch manifest name
    assert by_name["perl-base"].digests == {}  # no manifest listed: no digest claimed
    assert inv.tools == {"rpm": "RPM version 4.18.0", "dnf": "4.14.0"}


def test_the_inventory_store_keeps_one_per_image_id(tmp_path: Path) -> None:
    store = InventoryStore(tmp_path / "inventories")
    assert store.get(f"sha256:{SHA}") is None
    store.put(f"sha256:{SHA}", inventory())
    assert store.get(f"sha256:{SHA}") == inventory()
    store.remove(f"sha256:{SHA}")
    assert store.get(f"sha256:{SHA}") is None


def test_the_document_is_valid_spdx_with_origins_digests_and_outputs(tmp_path: Path) -> None:
    rpm = Artifact("foo-1-1.x86_64.rpm", "c" * 64, "foo", "1-1", "x86_64", MD5)
    doc = spdx_document(facts(inventory(), (rpm,)))
    path = tmp_path / "buildroot.spdx.json"
    path.write_text(json.dumps(doc))
    assert validate_full_spdx_document(parse_file(str(path))) == []

    packages = {p["name"]: p for p in doc["packages"]}
    assert packages["bash"]["sourceInfo"] == "tag-repo: repo 42 of tag f40-build"
    assert packages["bash"]["downloadLocation"] == "https://koji.example.org/repos/f40-build/42"
    assert packages["from-external"]["sourceInfo"] == "external-repo: external repo epel"
    assert packages["image-rpm"]["sourceInfo"].startswith("image: localhost/img:1")
    assert packages["coreutils"]["sourceInfo"].startswith("image: ")
    assert {"algorithm": "MD5", "checksumValue": MD5} in packages["bash"]["checksums"]
    purls = [r["referenceLocator"] for r in packages["openssl-libs"]["externalRefs"]]
    assert purls == ["pkg:rpm/openssl-libs@3.1.4-2.fc40?arch=x86_64&epoch=1"]
    srpm = next(p for p in doc["packages"] if p["SPDXID"] == "SPDXRef-SRPM")
    assert srpm["downloadLocation"] == \
        f"git+https://src.example.org/rpms/foo.git@{COMMIT}"
    output = next(p for p in doc["packages"] if p.get("packageFileName") == rpm.filename)
    assert output["checksums"][1] == {"algorithm": "SHA256", "checksumValue": "c" * 64}
    assert doc["creationInfo"]["creators"] == ["Tool: koji-adjutant-0.1", "Tool: podman-0.1"]
    assert "rpm RPM version 4.18.0" in doc["creationInfo"]["comment"]

    view = read_sbom(doc)
    assert view.outputs == (("foo-1-1.x86_64.rpm", "c" * 64),)
    assert len(view.packages) == 8


def test_a_failed_builds_document_describes_its_buildroot(tmp_path: Path) -> None:
    doc = spdx_document(facts(inventory()))
    path = tmp_path / "buildroot.spdx.json"
    path.write_text(json.dumps(doc))
    assert validate_full_spdx_document(parse_file(str(path))) == []
    described = [r["relatedSpdxElement"] for r in doc["relationships"]
                 if r["relationshipType"] == "DESCRIBES"]
    assert described == ["SPDXRef-SRPM"]
    assert read_sbom(doc).outputs == ()


def test_diff_names_added_removed_and_changed_packages() -> None:
    before = inventory()
    after = parse_inventory({
        "rpm.tsv": RPMS.replace("openssl-libs\t1\t3.1.4\t2.fc40", "openssl-libs\t1\t3.1.4\t3.fc40")
                       .replace(f"bash\t(none)\t5.2\t1.fc40\tx86_64\t{MD5}\t{SHA}\n", "")
        + f"\nnew-tool\t(none)\t1\t1\tx86_64\t{MD5}\t{SHA}",
        "deb.tsv": DEBS, "deb-sums.txt": SUMS, "tools.txt": TOOLS})
    old_view = read_sbom(spdx_document(facts(before)))
    new_view = read_sbom(spdx_document(facts(after)))
    changes = diff(old_view, new_view)
    assert [e.name for e in changes.added] == ["new-tool"]
    assert [e.name for e in changes.removed] == ["bash"]
    assert [(a.version, b.version) for a, b in changes.changed] == \
        [("1:3.1.4-2.fc40", "1:3.1.4-3.fc40")]
    assert not changes.image_changed
    assert "~ openssl-libs.x86_64 1:3.1.4-2.fc40 -> 1:3.1.4-3.fc40" in \
        diff_lines(changes, old_view, new_view)
    assert diff(old_view, old_view).empty


def test_vcs_locations_of_koji_scm_urls() -> None:
    assert vcs_location("git://pkgs.example.org/rpms/foo#v1", COMMIT) == \
        f"git+git://pkgs.example.org/rpms/foo@{COMMIT}"
    assert vcs_location("git+https://pkgs.example.org/rpms/foo.git?x#v1", COMMIT) == \
        f"git+https://pkgs.example.org/rpms/foo.git@{COMMIT}"


def test_a_build_from_scm_names_the_checkout_it_was_made_from(tmp_path: Path) -> None:
    rpm = Artifact("foo-1-1.src.rpm", "c" * 64, "foo", "1-1", "src", MD5)
    doc = spdx_document(dataclasses.replace(facts(inventory(), (rpm,)), srpm=None))
    path = tmp_path / "buildroot.spdx.json"
    path.write_text(json.dumps(doc))
    assert validate_full_spdx_document(parse_file(str(path))) == []
    source = next(p for p in doc["packages"] if p["SPDXID"] == "SPDXRef-Source")
    assert source["downloadLocation"] == f"git+https://src.example.org/rpms/foo.git@{COMMIT}"
    assert {"spdxElementId": "SPDXRef-Output-foo-1-1.src.rpm",
            "relationshipType": "GENERATED_FROM",
            "relatedSpdxElement": "SPDXRef-Source"} in doc["relationships"]
    assert read_sbom(doc).outputs == (("foo-1-1.src.rpm", "c" * 64),)


def test_an_output_purl_keeps_the_epoch() -> None:
    rpm = Artifact("foo-1-1.x86_64.rpm", "c" * 64, "foo", "2:1-1", "x86_64", MD5)
    doc = spdx_document(facts(inventory(), (rpm,)))
    output = next(p for p in doc["packages"] if p.get("packageFileName") == rpm.filename)
    assert output["externalRefs"][0]["referenceLocator"] == \
        "pkg:rpm/foo@1-1?arch=x86_64&epoch=2"


def test_the_written_text_is_the_document_one_package_per_line(tmp_path: Path) -> None:
    rpm = Artifact("foo-1-1.x86_64.rpm", "c" * 64, "foo", "1-1", "x86_64", MD5)
    doc = spdx_document(facts(inventory(), (rpm,)))
    text = document_text(doc)
    assert json.loads(text) == doc
    lines = text.splitlines()
    for package in doc["packages"]:
        [line] = [li for li in lines if f'"SPDXID": "{package["SPDXID"]}"' in li
                  and '"relationshipType"' not in li]
        assert json.loads(line.strip().rstrip(",")) == package
    path = tmp_path / "buildroot.spdx.json"
    path.write_text(text)
    assert validate_full_spdx_document(parse_file(str(path))) == []
