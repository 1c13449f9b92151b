"""Koji-style repos for tests, built for real: noarch packages from specs (rpmbuild in a
container), laid out as a hub lays out ``repos/<tag>/<id>/<arch>/`` (``toplink``,
``pkglist``, ``rpmlist.jsonl``, ``groups/comps.xml``) and indexed by createrepo_c in a
container. The hub is told about every package, so buildroot listings can name them."""

from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

from adjutant.build.local import LocalBuildRequest, build_locally
from adjutant.container.run import run_container
from adjutant.container.runtime import ContainerRuntime
from adjutant.container.spec import ContainerSpec, Mount
from adjutant.image.default import DEFAULT_IMAGE
from adjutant.plugin.manager import Plugins
from adjutant.rpm.header import RpmInfo, read_rpm
from adjutant.worker.buildroot import INSTALL_CAPABILITIES
from tests.support.fakehub import FakeHub

#: The comps groups of the test repos: the build group's member comes from the repo.
GROUPS: Mapping[str, Sequence[str]] = {"build": ["adjutant-buildsys"],
                                       "srpm-build": ["adjutant-buildsys"]}


#: dnf's line for a repo whose metadata it fetched ("Koji repo 1 (x86_64)  1 MB/s | 2 kB").
_METADATA_FETCH = re.compile(r"^Koji repo \d+ \(\w+\) +[\d.]+ +\w?B/s +\|", re.MULTILINE)


def metadata_fetches(root_log: str) -> int:
    """How many times dnf fetched a Koji repo's metadata, by what it printed in root.log
    (a run that found the metadata in its cache prints no such line)."""
    return len(_METADATA_FETCH.findall(root_log))


def package_spec(name: str, version: str = "1.0", requires: Sequence[str] = (),
                 build_requires: Sequence[str] = (), build_check: str = "",
                 release: str = "1", exclusive_arch: Sequence[str] = ()) -> str:
    """A tiny noarch package installing ``/usr/share/<name>/marker`` (holding its EVR)."""
    lines = [f"Name: {name}", f"Version: {version}", f"Release: {release}",
             f"Summary: {name} test package", "License: MIT", "BuildArch: noarch"]
    if exclusive_arch:
        lines.append(f"ExclusiveArch: {' '.join(exclusive_arch)}")
    lines += [f"Requires: {r}" for r in requires]
    lines += [f"BuildRequires: {r}" for r in build_requires]
    body = textwrap.dedent(f"""
        %description
        {name} for koji-adjutant's tests.

        %build
        {build_check or 'true'}

        %install
        mkdir -p %{{buildroot}}/usr/share/{name}
        echo "%{{version}}-%{{release}}" > %{{buildroot}}/usr/share/{name}/marker

        %files
        /usr/share/{name}/marker

        %changelog
        * Thu Nov 26 2026 koji-adjutant tests <tests@koji-adjutant.invalid>
        - Test package {name}.
    """)
    return "\n".join(lines) + "\n" + body


def build_package(runtime: ContainerRuntime, plugins: Plugins, spec_text: str, out: Path,
                  srpm_only: bool = False) -> list[Path]:
    """Build ``spec_text`` (noarch) in the default image; return the RPM files."""
    src = out / "src"
    src.mkdir(parents=True, exist_ok=True)
    spec = src / "pkg.spec"
    spec.write_text(spec_text)
    result = build_locally(runtime, plugins, LocalBuildRequest(
        source=spec, output=out, image=DEFAULT_IMAGE, srpm_only=srpm_only))
    return result.srpms if srpm_only else result.rpms


def comps_xml(groups: Mapping[str, Sequence[str]]) -> str:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<comps>"]
    for group, names in groups.items():
        parts.append(f"  <group><id>{group}</id><name>{group}</name><default>true</default>"
                     "<uservisible>false</uservisible><packagelist>")
        parts += [f'    <packagereq type="mandatory">{n}</packagereq>' for n in names]
        parts.append("  </packagelist></group>")
    parts.append("</comps>")
    return "\n".join(parts) + "\n"


def make_koji_repo(hub: FakeHub, runtime: ContainerRuntime, tag: str, rpms: Sequence[Path],
                   groups: Mapping[str, Sequence[str]], arch: str = "x86_64",
                   external: Mapping[str, Sequence[Path]] | None = None,
                   more_arches: Sequence[str] = ()) -> int:
    """A READY repo of ``tag`` holding ``rpms`` with comps ``groups`` → the repo id.

    The repo has ``arch`` and ``more_arches``, each with the same (noarch) packages, as a
    hub's newRepo writes one directory per tag arch. ``external`` (name → RPM files)
    makes plain repos under ``<topdir>/external/``, attaches them to the tag as external
    repos (``file://`` URLs, reachable wherever the topdir is mounted) and merges them in
    as a hub's createrepo does (``mergerepo_c --koji``), which leaves the repo's
    ``pkgorigins``. Their packages are not koji rpms.
    """
    external_urls = [make_external_repo(hub, runtime, tag, name, files, priority=5 * (i + 1))
                     for i, (name, files) in enumerate((external or {}).items())]
    arches = [arch, *more_arches]
    repo_id = hub.add_repo(tag, arches=arches)
    repodir = hub.repo_path(repo_id)
    pkglist, rpmlist = [], []
    for _path, info, rel, build_id, rpm_id in register_packages(hub, rpms):
        pkglist.append(f"toplink/{rel}")
        rpmlist.append({"id": rpm_id, "name": info.name, "version": info.version,
                        "release": info.release, "epoch": info.epoch, "arch": info.arch,
                        "payloadhash": info.payloadhash, "size": info.size,
                        "buildtime": info.buildtime, "build_id": build_id})
    (repodir / "groups").mkdir(exist_ok=True)
    comps = repodir / "groups" / "comps.xml"
    comps.write_text(comps_xml(groups))
    for one in arches:
        archdir = repodir / one
        # With external repos, createrepo_c indexes the tag's own packages in a premerge
        # dir and the merge writes the arch dir's repodata, as kojid does.
        indexdir = repodir / f"repo_{repo_id}_premerge" if external_urls else archdir
        indexdir.mkdir(exist_ok=True)
        for directory in {archdir, indexdir}:
            if not (directory / "toplink").is_symlink():
                os.symlink(hub.topdir, directory / "toplink")
            (directory / "pkglist").write_text("".join(f"{p}\n" for p in pkglist))
            os.chmod(directory, 0o777)
        (archdir / "rpmlist.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rpmlist))
        _in_container(runtime, hub, (indexdir,), "createrepo_c", "--error-exit-val", "-q",
                      "-i", str(indexdir / "pkglist"), "-g", str(comps), str(indexdir))
        if external_urls:
            repos = [a for url in (f"file://{indexdir}/", *external_urls) for a in ("-r", url)]
            _in_container(runtime, hub, (archdir,), "mergerepo_c", "--koji", "-a", one,
                          "--arch-expand", "-g", str(comps), "-o", str(archdir), *repos)
    return repo_id


def make_external_repo(hub: FakeHub, runtime: ContainerRuntime, tag: str, name: str,
                       rpms: Sequence[Path], arches: str | None = None,
                       priority: int = 5) -> str:
    """A plain repo of ``rpms`` attached to ``tag`` as external repo ``name`` (for
    ``arches`` only, when given) → its URL."""
    directory = hub.topdir / "external" / name
    directory.mkdir(parents=True)
    for path in rpms:
        shutil.copy(path, directory / path.name)
    os.chmod(directory, 0o777)
    _in_container(runtime, hub, (directory,), "createrepo_c", "--error-exit-val", "-q",
                  str(directory))
    url = f"file://{directory}/"
    hub.add_external_repo(name, url)
    hub.add_external_repo_to_tag(tag, name, priority=priority, arches=arches)
    return url


def _in_container(runtime: ContainerRuntime, hub: FakeHub, writable: Sequence[Path],
                  *command: str) -> None:
    """Run a repo tool in the default image, the topdir read-only, ``writable`` not."""
    spec = ContainerSpec(
        image=DEFAULT_IMAGE, user="1000:1000", command=command,
        mounts=(Mount(hub.topdir, str(hub.topdir)),
                *(Mount(d, str(d), writable=True) for d in writable)))
    output: list[bytes] = []
    result = run_container(runtime, spec, lambda _s, data: output.append(data))
    if not result.ok:
        raise RuntimeError(f"{command[0]} failed: {b''.join(output).decode()}")


def register_packages(hub: FakeHub, rpms: Sequence[Path]) \
        -> list[tuple[Path, RpmInfo, str, int, int]]:
    """Put RPM files under ``packages/`` as the hub stores builds, and make the hub know
    each build and rpm → (file, header, topdir-relative path, build id, rpm id)."""
    registered = []
    for path in rpms:
        info = read_rpm(path)
        rel = f"packages/{info.name}/{info.version}/{info.release}/{info.arch}/{path.name}"
        dest = hub.topdir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            shutil.copy(path, dest)
        build_id = _hub_build(hub, info.name, info.version, info.release)
        registered.append((path, info, rel, build_id, _hub_rpm(hub, info, build_id)))
    return registered


def _hub_build(hub: FakeHub, name: str, version: str, release: str) -> int:
    try:
        return int(hub.build(f"{name}-{version}-{release}")["id"])
    except KeyError:
        return hub.add_build(name, version, release)


def _hub_rpm(hub: FakeHub, info: RpmInfo, build_id: int) -> int:
    found = hub.client().getRPM(f"{info.nvr}.{info.arch}")
    if found:
        return int(found["id"])
    return hub.add_rpm(info.name, info.version, info.release, info.arch, epoch=info.epoch,
                       payloadhash=info.payloadhash, size=info.size,
                       buildtime=info.buildtime, build_id=build_id)


def install_from_repo(runtime: ContainerRuntime, repodir: Path, packages: Sequence[str],
                      then: str) -> str:
    """``dnf install packages`` from the repo at ``repodir`` alone, then the shell command
    ``then`` (a query), in a container of the default image → their output (asserts the
    container succeeded)."""
    output: list[bytes] = []
    spec = ContainerSpec(
        image=DEFAULT_IMAGE, user="0:0", capabilities=INSTALL_CAPABILITIES,
        mounts=(Mount(repodir, "/repo"),),
        command=("sh", "-c", "dnf -y -q --disablerepo='*' --repofrompath=dist,file:///repo "
                 "--enablerepo=dist --setopt=dist.gpgcheck=0 --nodocs "
                 f"--setopt=skip_if_unavailable=False install {' '.join(packages)} "
                 f"&& {then}"))
    result = run_container(runtime, spec, lambda _s, data: output.append(data))
    text = b"".join(output).decode()
    assert result.ok, text
    return text
