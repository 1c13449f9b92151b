"""``adjutant build --repo``: the packager's repos, as the buildroot install sees them.

A repo is an ``http(s)://`` URL, a ``file://`` URL or a directory. A directory that has
``repodata/`` is used as it is; one that only holds RPMs is indexed on the fly by
``createrepo_c`` in a container (never on the host): its metadata goes to a directory of
the build's own, with the RPMs bind-mounted beneath it read-only, so the packager's
directory is never written to.

Directories are mounted read-only at ``/adjutant-repos/<content digest>``: the repo URL
names the content, so a cached buildroot is reused exactly while the RPMs stay the same.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from adjutant.build.local import LOCAL_LABEL
from adjutant.container.run import run_container
from adjutant.container.runtime import ContainerRuntime
from adjutant.container.spec import ContainerSpec, Mount
from adjutant.container.untrusted import UnsafeFile, UntrustedDir
from adjutant.image.default import DEFAULT_IMAGE, ensure_default_image

REPOS_ROOT = "/adjutant-repos"
#: The subdirectory of a generated repo under which the packager's RPMs are mounted.
PACKAGES = "packages"


class RepoError(Exception):
    """A ``--repo`` that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class LocalRepo:
    """One repo as the install container reaches it."""

    given: str
    url: str
    mounts: tuple[Mount, ...]
    network: bool
    digest: str
    has_comps: bool


@dataclass(frozen=True)
class LocalRepos:
    """Every ``--repo``, in order. ``key_url`` stands for all of them in the buildroot
    cache key: their URLs and content digests."""

    repos: tuple[LocalRepo, ...]

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(r.url for r in self.repos)

    @property
    def mounts(self) -> tuple[Mount, ...]:
        return tuple(m for r in self.repos for m in r.mounts)

    @property
    def network(self) -> bool:
        return any(r.network for r in self.repos)

    @property
    def has_comps(self) -> bool:
        return any(r.has_comps for r in self.repos)

    @property
    def key_url(self) -> str:
        return " ".join(f"{r.url}#{r.digest[:16]}" for r in self.repos)


Say = Callable[[str], None]


def local_repos(runtime: ContainerRuntime, given: Sequence[str], workdir: Path,
                say: Say) -> LocalRepos:
    """The repos ``given`` on the command line; ``workdir`` holds generated metadata.
    Raises RepoError naming the repo that cannot be used."""
    repos = []
    for index, text in enumerate(given):
        if re.match(r"^https?://", text):
            repos.append(_http_repo(text))
            continue
        path = Path(unquote(urlparse(text).path)) if text.startswith("file://") \
            else Path(text).expanduser()
        if not path.is_dir():
            raise RepoError(f"--repo {text}: not a directory, nor an http(s):// or file:// "
                            "URL of one")
        repos.append(_dir_repo(runtime, text, path.resolve(), workdir / f"repo-{index}",
                               say))
    return LocalRepos(tuple(repos))


def _http_repo(url: str) -> LocalRepo:
    import requests

    base = url.rstrip("/") + "/"
    try:
        response = requests.get(f"{base}repodata/repomd.xml", timeout=60)
    except requests.RequestException as exc:
        raise RepoError(f"--repo {url}: cannot read its repodata/repomd.xml: {exc}") from None
    if response.status_code != 200:
        raise RepoError(f"--repo {url}: repodata/repomd.xml answered HTTP "
                        f"{response.status_code}; is it a repo (made by createrepo_c)?")
    return LocalRepo(url, base, (), True, hashlib.sha256(response.content).hexdigest(),
                     _has_comps(response.content))


def _dir_repo(runtime: ContainerRuntime, given: str, path: Path, metadir: Path,
              say: Say) -> LocalRepo:
    repomd = path / "repodata" / "repomd.xml"
    if repomd.is_file():
        data = repomd.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        target = f"{REPOS_ROOT}/{digest[:16]}"
        return LocalRepo(given, f"file://{target}/", (Mount(path, target),), False, digest,
                         _has_comps(data))
    rpms = sorted(p for p in path.rglob("*.rpm") if p.is_file())
    if not rpms:
        raise RepoError(f"--repo {given}: the directory has neither repodata/ nor RPMs")
    digest = _files_digest(path, rpms)
    target = f"{REPOS_ROOT}/{digest[:16]}"
    say(f"indexing {len(rpms)} RPMs of {path} with createrepo_c (in a container)")
    _createrepo(runtime, path, metadir)
    return LocalRepo(given, f"file://{target}/",
                     (Mount(metadir, target), Mount(path, f"{target}/{PACKAGES}")),
                     False, digest, False)


def _files_digest(root: Path, rpms: Sequence[Path]) -> str:
    """What identifies a directory of RPMs: each file's path, size and modification time."""
    h = hashlib.sha256()
    for rpm in rpms:
        st = rpm.stat()
        h.update(f"{rpm.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _has_comps(repomd: bytes) -> bool:
    return re.search(rb'<data\s+type="group(_gz|_xz|_zck)?"', repomd) is not None


def _createrepo(runtime: ContainerRuntime, rpms: Path, metadir: Path) -> None:
    """``createrepo_c`` over ``rpms`` (read-only) into ``metadir``, in the default image
    (it has createrepo_c; the build's image may not), network off. It runs as root with
    only the capability to read any file: the packager's RPMs need not be world-readable."""
    (metadir / PACKAGES).mkdir(parents=True, exist_ok=True)
    ensure_default_image(runtime, DEFAULT_IMAGE)
    output: list[bytes] = []
    spec = ContainerSpec(
        image=DEFAULT_IMAGE, user="0:0", workdir="/repo", capabilities=("DAC_READ_SEARCH",),
        command=("createrepo_c", "--error-exit-val", "-q", "/repo"),
        mounts=(Mount(metadir, "/repo", writable=True), Mount(rpms, f"/repo/{PACKAGES}")),
        labels={LOCAL_LABEL: "true"})
    result = run_container(runtime, spec, lambda _s, data: output.append(data))
    if not result.ok:
        raise RepoError(f"createrepo_c failed on {rpms} (exit status {result.exit_code}): "
                        + b"".join(output).decode(errors="replace").strip()[-2000:])
    try:
        UntrustedDir(metadir).read_bytes("repodata/repomd.xml", limit=1 << 20)
    except UnsafeFile as exc:
        raise RepoError(f"createrepo_c left no usable repodata for {rpms}: {exc}") from None
