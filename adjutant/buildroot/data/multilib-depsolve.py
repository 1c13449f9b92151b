# Resolves the 32-bit part of a multilib dist repo, run by python3 with dnf's bindings in
# a container where the hub's topdir is read-only:
#   multilib-depsolve.py REQUEST.json RESULT.json
# REQUEST: {"repo": the 32-bit dist repo's directory, "arch": the 64-bit repo's arch,
#           "install": [[name, epoch, version, release, arch], ...]}
# RESULT:  {"install": [file names of every package the install set holds]}
#          or {"error": what dnf said} when the packages cannot be resolved.
# Nothing is installed: dnf depsolves into an empty root under /tmp.
import json
import os
import sys

import dnf
import dnf.exceptions


def main(request_path: str, result_path: str) -> None:
    with open(request_path) as fh:
        request = json.load(fh)
    base = dnf.Base()
    conf = base.conf
    conf.installroot = "/tmp/multilib-root"
    conf.cachedir = "/tmp/multilib-cache"
    conf.reposdir = []
    conf.gpgcheck = False
    conf.arch = request["arch"]
    base.repos.add_new_repo("multilib", conf, baseurl=["file://" + request["repo"]])
    result: dict[str, object] = {}
    try:
        base.fill_sack(load_system_repo=False, load_available_repos=True)
        available = base.sack.query().available()
        for name, epoch, version, release, arch in request["install"]:
            found = available.filter(name=name, epoch=epoch or 0, version=version,
                                     release=release, arch=arch).run()
            if not found:
                raise dnf.exceptions.PackageNotFoundError(
                    f"{name}-{version}-{release}.{arch} is not in the 32-bit repo")
            base.package_install(found[0], strict=True)
        base.resolve()
        result["install"] = sorted(os.path.basename(p.location)
                                   for p in base.transaction.install_set)
    except dnf.exceptions.Error as exc:
        result["error"] = str(exc)
    with open(result_path, "w") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
