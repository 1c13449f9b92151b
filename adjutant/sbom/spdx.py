"""The SBOM of one build as an SPDX 2.3 JSON document.

SPDX rather than CycloneDX: it is the format the RPM world already exchanges (Fedora's and
Red Hat's SBOMs, Konflux's build attestations are SPDX 2.3), its relationship types say
exactly what a build environment is (``BUILD_TOOL_OF``, ``GENERATED_FROM``,
``DESCENDANT_OF``), and it names an RPM by purl and by checksum as Koji does (SIGMD5 is
Koji's payloadhash).

The document holds:

- one package per installed package of the buildroot, rpm or deb, with its version,
  arch, digests, purl and where it came from (``sourceInfo`` starts with the origin kind:
  ``tag-repo``, ``external-repo``, ``local-repo`` or ``image``);
- the buildroot itself (CONTAINS each of them, DESCENDANT_OF the image), the image by
  reference and digest, the worker and its plugins as the creators, the rpm and package
  manager versions in the creation comment;
- the SRPM (with the SCM URL and commit it was made from, if any) and the produced RPMs
  with their SHA-256 digests: the document DESCRIBES them, each GENERATED_FROM the SRPM,
  the buildroot BUILD_TOOL_OF each.
"""

from __future__ import annotations

import datetime
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adjutant.sbom.inventory import BuildrootInventory, InventoryPackage

#: The SPDX file name every build writes (uploaded with the task's logs).
SBOM_NAME = "buildroot.spdx.json"


@dataclass(frozen=True)
class Origin:
    """Where a buildroot package came from: ``kind`` (``tag-repo``, ``external-repo``,
    ``local-repo`` or ``image``: what ``sourceInfo`` starts with), a
    human ``label`` ("repo 42 of tag f40-build") and a URL to fetch it from, if known."""

    kind: str
    label: str
    location: str | None = None


@dataclass(frozen=True)
class Artifact:
    """A file of the build (the SRPM, an RPM): its name, SHA-256, and the rpm header's
    N-V-R.A and SIGMD5 when it was read."""

    filename: str
    sha256: str
    name: str = ""
    evr: str = ""
    arch: str = ""
    sigmd5: str = ""


@dataclass(frozen=True)
class BuildFacts:
    """Everything one document says about a build."""

    #: "buildArch task 123 (foo-1.0-1 on x86_64)", "local build of foo-1.0-1.src.rpm".
    subject: str
    #: A URI unique to this document (SPDX's ``documentNamespace``).
    namespace: str
    inventory: BuildrootInventory
    origin: Callable[[InventoryPackage], Origin]
    image: str
    image_id: str
    buildroot_image_id: str
    #: (name, version) of the worker and each plugin, the worker first.
    tools: Sequence[tuple[str, str]]
    host: str
    srpm: Artifact | None = None
    outputs: Sequence[Artifact] = ()
    scm_url: str | None = None
    scm_commit: str | None = None
    created: datetime.datetime = field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC))


def _spdx_id(prefix: str, text: str, taken: set[str]) -> str:
    base = f"SPDXRef-{prefix}-" + re.sub(r"[^A-Za-z0-9.-]", "-", text)
    ident, n = base, 1
    while ident in taken:
        n += 1
        ident = f"{base}-{n}"
    taken.add(ident)
    return ident


def _purl(p: InventoryPackage) -> str:
    if p.kind == "deb":
        version = urllib.parse.quote(p.evr, safe="")
        return f"pkg:deb/debian/{p.name}@{version}?arch={p.arch}"
    qualifiers = f"arch={p.arch}" + (f"&epoch={p.epoch}" if p.epoch is not None else "")
    return f"pkg:rpm/{p.name}@{p.version}-{p.release}?{qualifiers}"


def vcs_location(url: str, commit: str) -> str:
    """SPDX's VCS download location of ``commit`` of the repository at koji SCM ``url``
    (``git+https://host/repo.git#ref`` and ``git://host/repo#ref`` alike):
    ``git+<transport>://host/path@commit``."""
    base = url.split("#", 1)[0].split("?", 1)[0]
    scheme = base.split("://", 1)[0]
    return f"{base if '+' in scheme else 'git+' + base}@{commit}"


def _checksums(digests: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"algorithm": algo, "checksumValue": value}
            for algo, value in sorted(digests.items())]


def _artifact(ident: str, a: Artifact, purpose: str, location: str = "NOASSERTION") \
        -> dict[str, Any]:
    digests = {"SHA256": a.sha256, **({"MD5": a.sigmd5} if a.sigmd5 else {})}
    package: dict[str, Any] = {
        "SPDXID": ident, "name": a.name or a.filename, "packageFileName": a.filename,
        "downloadLocation": location, "filesAnalyzed": False,
        "checksums": _checksums(digests), "primaryPackagePurpose": purpose,
    }
    if a.evr:
        package["versionInfo"] = a.evr
    if a.name and a.evr and a.arch:
        epoch, _, version = a.evr.rpartition(":")
        qualifiers = f"arch={a.arch}" + (f"&epoch={epoch}" if epoch else "")
        package["externalRefs"] = [{
            "referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
            "referenceLocator": f"pkg:rpm/{a.name}@{version}?{qualifiers}"}]
    return package


def _source(facts: BuildFacts) -> dict[str, Any] | None:
    """What the build was made from: the input SRPM (``SPDXRef-SRPM``, with the SCM it came
    from if known) or, for a build from SCM, the checkout (``SPDXRef-Source``)."""
    location = vcs_location(facts.scm_url, facts.scm_commit) \
        if facts.scm_url and facts.scm_commit else "NOASSERTION"
    if facts.srpm is not None:
        package = _artifact("SPDXRef-SRPM", facts.srpm, "SOURCE", location)
    elif facts.scm_url:
        package = {"SPDXID": "SPDXRef-Source", "name": facts.scm_url,
                   "downloadLocation": location, "filesAnalyzed": False,
                   "primaryPackagePurpose": "SOURCE"}
        if facts.scm_commit:
            package["versionInfo"] = facts.scm_commit
    else:
        return None
    if facts.scm_url:
        package["sourceInfo"] = f"made from {facts.scm_url}" + \
            (f" at commit {facts.scm_commit}" if facts.scm_commit else "")
    return package


def spdx_document(facts: BuildFacts) -> dict[str, Any]:
    """The SPDX 2.3 document (a JSON-ready dict) of ``facts``."""
    taken: set[str] = set()
    image_digest = facts.image_id.removeprefix("sha256:")
    image_name = facts.image.rsplit(":", 1)[0] if ":" in facts.image.rsplit("/", 1)[-1] \
        else facts.image
    packages: list[dict[str, Any]] = [{
        "SPDXID": "SPDXRef-Image", "name": facts.image, "versionInfo": facts.image_id,
        "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
        "checksums": _checksums({"SHA256": image_digest}),
        "primaryPackagePurpose": "CONTAINER",
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                          "referenceLocator": f"pkg:oci/{image_name.rsplit('/', 1)[-1]}"
                                              f"@sha256%3A{image_digest}?repository_url="
                                              f"{urllib.parse.quote(image_name, safe='')}"}],
    }, {
        "SPDXID": "SPDXRef-Buildroot", "name": "buildroot",
        "versionInfo": facts.buildroot_image_id, "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False, "primaryPackagePurpose": "CONTAINER",
        "comment": f"the container image the build ran in, made from {facts.image}",
    }]
    taken.update(("SPDXRef-Image", "SPDXRef-Buildroot", "SPDXRef-DOCUMENT"))
    relationships: list[dict[str, str]] = [
        {"spdxElementId": "SPDXRef-Buildroot", "relationshipType": "DESCENDANT_OF",
         "relatedSpdxElement": "SPDXRef-Image"}]
    for p in facts.inventory.packages:
        origin = facts.origin(p)
        ident = _spdx_id(p.kind, f"{p.name}-{p.evr}.{p.arch}", taken)
        package: dict[str, Any] = {
            "SPDXID": ident, "name": p.name, "versionInfo": p.evr,
            "downloadLocation": origin.location or "NOASSERTION", "filesAnalyzed": False,
            "supplier": "NOASSERTION", "sourceInfo": f"{origin.kind}: {origin.label}",
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER",
                              "referenceType": "purl", "referenceLocator": _purl(p)}],
        }
        if p.digests:
            package["checksums"] = _checksums(p.digests)
        packages.append(package)
        relationships.append({"spdxElementId": "SPDXRef-Buildroot",
                              "relationshipType": "CONTAINS", "relatedSpdxElement": ident})
        if origin.kind == "image":
            relationships.append({"spdxElementId": "SPDXRef-Image",
                                  "relationshipType": "CONTAINS", "relatedSpdxElement": ident})
    described = []
    source = _source(facts)
    if source is not None:
        packages.append(source)
        taken.add(source["SPDXID"])
        described.append(source["SPDXID"])
        relationships.append({"spdxElementId": "SPDXRef-Buildroot",
                              "relationshipType": "BUILD_TOOL_OF",
                              "relatedSpdxElement": source["SPDXID"]})
    for output in facts.outputs:
        ident = _spdx_id("Output", output.filename, taken)
        packages.append(_artifact(ident, output, "INSTALL"))
        described.append(ident)
        relationships.append({"spdxElementId": "SPDXRef-Buildroot",
                              "relationshipType": "BUILD_TOOL_OF",
                              "relatedSpdxElement": ident})
        if source is not None:
            relationships.append({"spdxElementId": ident, "relationshipType": "GENERATED_FROM",
                                  "relatedSpdxElement": source["SPDXID"]})
    # A failed build has no outputs: its document describes the buildroot it failed in.
    relationships[:0] = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                          "relatedSpdxElement": ident}
                         for ident in described or ["SPDXRef-Buildroot"]]
    tools = ", ".join(f"{name} {version}" for name, version in
                      sorted(facts.inventory.tools.items())) or "none found"
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"buildroot of {facts.subject}",
        "documentNamespace": facts.namespace,
        "creationInfo": {
            "created": facts.created.astimezone(datetime.UTC)
                            .strftime("%Y-%m-%dT%H:%M:%SZ"),
            "creators": [f"Tool: {name}-{version}" for name, version in facts.tools],
            "comment": f"{facts.subject} on host {facts.host}, in image {facts.image} "
                       f"({facts.image_id}); buildroot tools: {tools}",
        },
        "packages": packages,
        "relationships": relationships,
    }
