"""``adjutant sbom BUILD [--diff OTHER]``: what a build was built in, and what changed.

BUILD is a hub task id (its ``buildroot.spdx.json`` is read under the hub's topurl, or its
topdir where that is mounted here) or a local build's output directory (or the document
itself).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from adjutant.cli.common import fail


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "sbom", help="summarize a build's buildroot SBOM, or compare two builds' buildroots",
        description="Print what a build ran in, from its buildroot.spdx.json: the image, "
                    "the buildroot's packages by origin, the tools, the outputs. With "
                    "--diff, print what changed from OTHER's buildroot to BUILD's: packages "
                    "added (+), removed (-) and with another version (~).")
    p.add_argument("build", metavar="BUILD",
                   help="a hub task id (buildArch, rebuildSRPM, buildSRPMFromSCM), or a "
                        "local build's output directory, or an SPDX file")
    p.add_argument("--diff", metavar="OTHER", help="the build to compare with (as BUILD)")
    p.add_argument("--profile", help="koji client profile of the hub, for task ids")
    p.add_argument("--topurl", help="the hub's topurl, for task ids (instead of --profile)")
    p.add_argument("--json", action="store_true", help="print the comparison or summary as "
                                                       "JSON")
    p.set_defaults(func=run)


def _topurl(args: argparse.Namespace) -> str:
    if args.topurl:
        return str(args.topurl)
    if args.profile:
        from adjutant.build.hubsource import HubSourceError, profile_endpoints

        try:
            hub = profile_endpoints(args.profile)
        except HubSourceError as exc:
            fail(str(exc), code=1)
        if hub.topdir and Path(hub.topdir).is_dir():
            return Path(hub.topdir).as_uri()
        if hub.topurl:
            return hub.topurl
        fail(f"profile {args.profile} names no topurl, and its topdir {hub.topdir} is not "
             "mounted here: give --topurl", code=1)
    fail("a task id needs the hub: give --profile NAME (a koji client profile) or "
         "--topurl URL", code=1)


def _load(what: str, args: argparse.Namespace) -> dict[str, Any]:
    """The document of ``what``: a task id, a directory or a file."""
    from adjutant.sbom.spdx import SBOM_NAME

    if what.isdigit():
        import urllib.error
        import urllib.request

        import koji

        url = f"{_topurl(args).rstrip('/')}/work/{koji.pathinfo.taskrelpath(int(what))}/" \
              f"{SBOM_NAME}"
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as exc:
            fail(f"task {what} has no {SBOM_NAME} ({url}: {exc.code}); buildArch, "
                 "rebuildSRPM and buildSRPMFromSCM tasks have one: for a build task, name "
                 "one of its subtasks", code=1)
        except (urllib.error.URLError, OSError) as exc:
            fail(f"cannot read {url}: {exc}", code=1)
        source = url
    else:
        path = Path(what)
        path = path / SBOM_NAME if path.is_dir() else path
        try:
            text = path.read_text()
        except OSError as exc:
            fail(f"cannot read {path}: {exc.strerror} (give a task id, a build's output "
                 f"directory or its {SBOM_NAME})", code=1)
        source = str(path)
    try:
        doc = json.loads(text)
    except ValueError as exc:
        fail(f"{source}: not JSON: {exc}", code=1)
    if not isinstance(doc, dict):
        fail(f"{source}: not an SPDX document", code=1)
    return doc


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from adjutant.sbom.compare import SbomError, diff, diff_lines, read_sbom, summary_lines

    try:
        view = read_sbom(_load(args.build, args))
        other = read_sbom(_load(args.diff, args)) if args.diff else None
    except SbomError as exc:
        fail(str(exc), code=1)
    if other is None:
        if args.json:
            print(json.dumps(asdict(view), indent=2))
        else:
            print("\n".join(summary_lines(view)))
        return 0
    changes = diff(other, view)
    if args.json:
        print(json.dumps(asdict(changes), indent=2))
    else:
        print(f"from {other.subject}\n  to {view.subject}")
        print("\n".join(diff_lines(changes, other, view)))
    return 0
