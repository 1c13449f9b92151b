"""The build tag's settings (its ``extra``) that kojid honours, mapped onto containers.

kojid hands a tag's extras to mock: ``rpm.macro.NAME`` become macros (here:
:mod:`adjutant.worker.macros`), ``rpm.env.NAME`` mock's ``environment`` (the environment of
the commands mock runs in the chroot, its package manager's included: the buildroot
install, the build and an SCM checkout's source command), and
a few ``mock.*`` keys mock's config. Here each ``mock.*`` key with a container meaning is
honoured where the buildroot is installed; every other one is named in ``root.log`` as not
applicable, never dropped silently.

=============================  ============================================================
tag extra                      here
=============================  ============================================================
``rpm.env.NAME``               ``NAME`` in the environment of the buildroot install,
                               rpmbuild and the source command
``mock.package_manager``       the buildroot install's package manager (dnf, dnf5, yum,
                               microdnf)
``mock.yum.module_hotfixes``   ``module_hotfixes=1`` in the buildroot's repo file
``mock.yum.best``              ``best=1`` for the install when true
``mock.releasever``            the install's ``--releasever``
``mock.module_setup_commands`` ``<pm> module <command> <modules>`` before the install
anything else ``mock.*``       named in root.log: not applicable in a container buildroot
=============================  ============================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adjutant.worker.errors import build_error

RPM_ENV = "rpm.env."
MOCK = "mock."

PACKAGE_MANAGERS = ("dnf", "dnf5", "yum", "microdnf")
MODULE_COMMANDS = ("enable", "disable", "reset", "install", "remove", "switch-to")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RELEASEVER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MODULE_SPEC = re.compile(r"^[A-Za-z0-9_.+][A-Za-z0-9_.+:/-]*$")

#: mock.* keys kojid reads that mean nothing for a container buildroot, with the reason.
NOT_APPLICABLE: Mapping[str, str] = {
    "mock.forcearch": "the image's platform decides the arch (foreign arches run under "
                      "qemu-user through binfmt, no forcearch needed)",
    "mock.use_bootstrap": "the buildroot is installed by the image's own package manager, "
                          "not from a bootstrap chroot",
    "mock.bootstrap_image": "the buildroot is installed in the task's image itself; choose "
                            "it with the tag's adjutant_image_policy",
    "mock.bootstrap_image_ready": "there is no bootstrap chroot",
    "mock.new_chroot": "every build runs in its own container",
    "mock.plugin_conf.sign_enable": "mock's sign plugin does not run; sign the built RPMs "
                                    "with Koji's signing tools",
    "mock.plugin_conf.sign_opts.cmd": "mock's sign plugin does not run",
    "mock.plugin_conf.sign_opts.opts": "mock's sign plugin does not run",
}

#: The keys of :attr:`TagSettings.install` (the buildroot install's options).
INSTALL_KEYS = ("package_manager", "module_hotfixes", "best", "releasever", "module_setup")


@dataclass(frozen=True)
class TagSettings:
    """What a build tag's extras ask of a build here.

    ``environment``: ``rpm.env.*`` (name → value). ``install``: options of the buildroot
    install (keys from :data:`INSTALL_KEYS`, values strings; only those the tag sets), part
    of the buildroot's cache key. ``notes``: one line per setting for root.log, saying how
    it is honoured or why it is not applicable.
    """

    environment: Mapping[str, str] = field(default_factory=dict)
    install: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def module_hotfixes(self) -> bool:
        return self.install.get("module_hotfixes") == "1"


def tag_settings(build_config: Mapping[str, Any] | None) -> TagSettings:
    """The settings in ``build_config['extra']`` (a ``getBuildConfig`` answer).

    Raises koji.BuildError naming the key for a value that cannot be honoured (an
    environment name that is not one, an unknown package manager, a malformed module
    command), so the tag's owner knows what to fix."""
    extra = dict((build_config or {}).get("extra") or {})
    environment: dict[str, str] = {}
    install: dict[str, str] = {}
    notes: list[str] = []
    for key in sorted(extra):
        value = extra[key]
        if key.startswith(RPM_ENV):
            name = key[len(RPM_ENV):]
            if not _ENV_NAME.match(name):
                raise _bad(key, value, "the part after rpm.env. must be an environment "
                           "variable name (letters, digits, _; not starting with a digit)")
            text = str(value)
            if "\0" in text:
                raise _bad(key, value, "an environment value cannot hold a NUL byte")
            environment[name] = text
            notes.append(f"tag setting {key}: in the environment of the buildroot install "
                         "and the build")
        elif key.startswith(MOCK):
            note = _mock_setting(key, value, install)
            notes.append(f"tag setting {key} = {value!r}: {note}")
    return TagSettings(environment, install, tuple(notes))


def _mock_setting(key: str, value: Any, install: dict[str, str]) -> str:
    """Record a mock.* key's install option; return its root.log note."""
    if key == "mock.package_manager":
        if value not in PACKAGE_MANAGERS:
            raise _bad(key, value, f"expected one of {', '.join(PACKAGE_MANAGERS)}")
        install["package_manager"] = str(value)
        return f"the buildroot is installed with {value}"
    if key == "mock.yum.module_hotfixes":
        if _truthy(value):
            install["module_hotfixes"] = "1"
            return "module_hotfixes=1 in the buildroot's repo file"
        return "false: nothing to do"
    if key == "mock.yum.best":
        try:
            best = int(value)
        except (TypeError, ValueError):
            raise _bad(key, value, "expected an integer (0 or 1), as kojid reads it") \
                from None
        if best:
            install["best"] = "1"
            return "the install takes the best candidates only (best=1)"
        return "0: nothing to do"
    if key == "mock.releasever":
        text = str(value)
        if not _RELEASEVER.match(text):
            raise _bad(key, value, "expected a release version such as 9 or 40")
        install["releasever"] = text
        return f"the install uses --releasever={text}"
    if key == "mock.module_setup_commands":
        install["module_setup"] = _module_setup(key, value)
        return "run as module commands of the package manager before the install"
    reason = NOT_APPLICABLE.get(key, "kojid does not read it either")
    return f"not applicable in a container buildroot ({reason})"


def _module_setup(key: str, value: Any) -> str:
    """mock's ``module_setup_commands`` ([(command, modules), ...], modules separated by
    commas or spaces) as lines ``command module...``."""
    if not isinstance(value, (list, tuple)):
        raise _bad(key, value, "expected a list of [command, modules] pairs, e.g. "
                   "[['enable', 'nodejs:18']]")
    lines = []
    for entry in value:
        if not isinstance(entry, (list, tuple)) or len(entry) != 2 \
                or not all(isinstance(part, str) for part in entry):
            raise _bad(key, value, f"entry {entry!r} is not a [command, modules] pair")
        command, modules = entry
        if command not in MODULE_COMMANDS:
            raise _bad(key, value, f"module command {command!r} is not one of "
                       f"{', '.join(MODULE_COMMANDS)}")
        specs = [m for m in re.split(r"[,\s]+", modules) if m]
        bad = [m for m in specs if not _MODULE_SPEC.match(m)]
        if not specs or bad:
            raise _bad(key, value, f"{modules!r} is not a list of module specs "
                       "(name[:stream][/profile], separated by commas)")
        lines.append(" ".join([command, *specs]))
    return "\n".join(lines)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


def _bad(key: str, value: Any, what: str) -> Exception:
    return build_error(f"the build tag's setting {key} = {value!r} cannot be honoured: "
                       f"{what}; fix it with koji edit-tag")
