"""The worker's settings as one typed, frozen object.

Built once from the option tables of :mod:`adjutant.config` (kojid.conf's ``[kojid]``,
``[adjutant]`` and the plugins' declared keys) plus what the daemon knows at start-up;
handed to koji's TaskManager (which reads kojid's names from it, as from kojid's options)
and to every task handler and step. Fields carry no defaults: every value comes from the
tables, so a default lives in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adjutant.plugin.manager import Plugins


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class WorkerSettings:
    """Every setting of a worker (or of a local build), by kojid's and adjutant's names.

    Compared by identity, and its repr names the host and runtime only: it holds the
    hub password and the SMTP password, which must not reach a log or a traceback
    (and the generated ``__eq__``, ``__hash__`` and ``__repr__`` of some 110 fields
    were about a third of a command's time spent defining classes)."""

    # kojid.conf's [kojid] (adjutant.config.KOJID_OPTIONS)
    server: str | None
    topurl: str | None
    topdir: str
    workdir: str
    mockdir: str
    user: str | None
    password: str | None
    cert: str | None
    serverca: str | None
    krb_principal: str | None
    host_principal_format: str
    keytab: str
    ccache: str
    no_ssl_verify: bool
    allow_noverifyssl: bool
    retry_interval: int
    max_retries: int
    offline_retry: bool
    offline_retry_interval: int
    timeout: int | None
    use_fast_upload: bool
    maxjobs: int
    sleeptime: int
    minspace: int
    vendor: str
    packager: str
    distribution: str
    mockhost: str
    rpmbuild_timeout: int
    literal_task_arches: str
    build_arch_can_fail: bool
    support_rpm_source_layout: bool
    allowed_scms: str
    allowed_scms_use_config: bool
    allowed_scms_use_policy: bool
    scm_credentials_dir: str | None
    allow_password_in_scm_url: bool
    use_createrepo_c: bool
    createrepo_update: bool
    createrepo_skip_stat: bool
    copy_old_repodata: bool
    distrepo_skip_stat: bool
    buildroot_basic_cleanup_delay: int
    buildroot_final_cleanup_delay: int
    failed_buildroot_lifetime: int
    log_timestamps: bool
    log_level: str | None
    admin_emails: str | None
    smtphost: str
    smtp_user: str | None
    smtp_pass: str | None
    from_addr: str
    #: kojid's builder plugins (``plugin``, or its alias ``plugins``): named, never loaded.
    plugin: Sequence[str]
    pluginpath: str
    task_avail_delay: int
    mockuser: str
    chroot_tmpdir: str
    yum_proxy: str | None
    mock_bootstrap_image: bool
    pkgurl: str | None
    maven_repo_ignore: str
    oz_install_timeout: int
    xz_options: str
    topurls: Sequence[str]
    rlimits: Mapping[str, tuple[int, int]]
    # [adjutant] (adjutant.config.ADJUTANT_OPTIONS)
    runtime: str
    task_image_default: str
    image_pull_policy: str
    policy_enabled: bool
    policy_cache_ttl: int
    buildroot_enabled: bool
    network_enabled: bool
    container_mounts: Sequence[tuple[str, str, bool]]
    container_labels: Mapping[str, str]
    container_timeouts: Mapping[str, int]
    container_memory: int | None
    container_pids: int
    container_cpus: float | None
    log_sinks: Sequence[str]
    cache_dir: str
    engine_wait_log_interval: float
    hub_log_interval: float
    install_network: str
    scm_network: str
    repo_wait_interval: float
    buildroot_cache_enabled: bool
    buildroot_cache_max_images: int
    buildroot_cache_max_size: int
    repo_metadata_cache_entries: int
    #: Foreign arches built under qemu-user, canonical (``aarch64``).
    emulated_arches: Sequence[str]
    emulation_timeout_factor: float
    #: Package name patterns never built emulated / the only ones that may be (if any).
    emulation_deny: Sequence[str]
    emulation_allow: Sequence[str]
    # [adjutant] per-arch keys (adjutant.config.PER_ARCH_OPTIONS), by canonical arch.
    task_image_default_by_arch: Mapping[str, str]
    emulation_timeout_factor_by_arch: Mapping[str, float]
    # Known at start-up, not read from a file.
    plugins: Plugins
    host_name: str
    daemon_pid: int = 0
    #: The plugins' declared [adjutant] keys, as strings.
    plugin_options: Mapping[str, str]
    #: [adjutant] and the plugins' keys as one mapping: what hook requests carry.
    adjutant_settings: Mapping[str, Any]

    def __repr__(self) -> str:
        return f"WorkerSettings(host_name={self.host_name!r}, runtime={self.runtime!r})"

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> WorkerSettings:
        """The settings from a mapping holding every field (extra keys are ignored)."""
        names = {f.name for f in fields(cls)}
        missing = sorted(n for n in names - set(values) if n != "daemon_pid")
        if missing:
            raise ValueError(f"settings lack {', '.join(missing)}")
        return cls(**{k: v for k, v in values.items() if k in names})
