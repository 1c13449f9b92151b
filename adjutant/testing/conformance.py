"""The runtime conformance suite: what every ContainerRuntime must do, on a real engine.

A runtime plugin runs it by subclassing :class:`RuntimeConformance` in a test module and
providing two fixtures, ``runtime`` (an open ContainerRuntime) and ``image`` (a local image
with ``sh``, ``python3``, ``id`` and a user with uid 1000)::

    from adjutant.testing.conformance import RuntimeConformance

    class TestMyEngine(RuntimeConformance):
        @pytest.fixture(scope="class")
        def runtime(self): ...
        @pytest.fixture(scope="class")
        def image(self): ...

Each test checks behaviour through the engine itself, never through the runtime's own
bookkeeping, and leaves no container behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

from adjutant.container.errors import ContainerError
from adjutant.container.platforms import host_arch
from adjutant.container.refs import split_ref
from adjutant.container.run import RunResult, run_container
from adjutant.container.runtime import ContainerRuntime
from adjutant.container.spec import ContainerSpec, Limits, Mount, Stream
from adjutant.image.archive import write_archive
from adjutant.testing.engines import unique_label

#: A memory limit small enough to reach at once, big enough for a shell and python3.
OOM_LIMIT = 32 * 1024 * 1024


class _Collect:
    """A sink that keeps each stream's bytes."""

    def __init__(self) -> None:
        self.data: dict[Stream, bytearray] = {Stream.STDOUT: bytearray(),
                                              Stream.STDERR: bytearray()}
        self.lock = threading.Lock()

    def __call__(self, stream: Stream, data: bytes) -> None:
        with self.lock:
            self.data[stream] += data

    def text(self, stream: Stream = Stream.STDOUT) -> str:
        return self.data[stream].decode()


def _first_difference(stream: Stream, got: list[str], want: list[str]) -> str:
    """Where ``got`` first departs from ``want``, with the lines around it."""
    at = next((i for i, (g, w) in enumerate(zip(got, want, strict=False)) if g != w),
              min(len(got), len(want)))
    return (f"{stream.name}: {len(got)} lines, {len(want)} expected; first difference at "
            f"line {at}: got {got[max(at - 2, 0):at + 3]}, expected "
            f"{want[max(at - 2, 0):at + 3]}")


def _run(runtime: ContainerRuntime, image: str, script: str, **kwargs: object) \
        -> tuple[RunResult, _Collect]:
    sink = _Collect()
    spec = ContainerSpec(image=image, command=("sh", "-c", script), **kwargs)  # type: ignore[arg-type]
    return run_container(runtime, spec, sink), sink


class RuntimeConformance:
    """Behaviour every container runtime plugin must show against its real engine."""

    # -- lifecycle -----------------------------------------------------------------------

    def test_exit_codes_are_reported(self, runtime: ContainerRuntime, image: str) -> None:
        ok, _ = _run(runtime, image, "true")
        failed, _ = _run(runtime, image, "exit 3")
        assert (ok.exit_code, ok.timed_out) == (0, False)
        assert failed.exit_code == 3 and not failed.ok

    def test_container_is_removed_after_the_run(self, runtime: ContainerRuntime,
                                                image: str) -> None:
        labels = unique_label()
        _run(runtime, image, "true", labels=labels)
        assert runtime.list_containers(labels) == []

    def test_create_start_wait_remove_by_hand(self, runtime: ContainerRuntime,
                                              image: str) -> None:
        labels = unique_label()
        cid = runtime.create(ContainerSpec(image=image, command=("sh", "-c", "exit 7"),
                                           labels=labels))
        try:
            assert [c.id for c in runtime.list_containers(labels)] == [cid]
            runtime.start(cid)
            assert runtime.wait(cid, 60) == 7
        finally:
            runtime.remove(cid)
        assert runtime.list_containers(labels) == []
        runtime.remove(cid)  # removing twice is not an error
        runtime.kill(cid)  # neither is killing a container that is gone

    # -- output --------------------------------------------------------------------------

    def test_stdout_and_stderr_stream_completely_and_in_order(
            self, runtime: ContainerRuntime, image: str) -> None:
        lines = 200_000
        program = textwrap.dedent(f"""
            import sys
            out, err = sys.stdout, sys.stderr
            for i in range({lines}):
                (out if i % 2 == 0 else err).write(f"line {{i}}\\n")
        """)
        sink = _Collect()
        spec = ContainerSpec(image=image, command=("python3", "-c", program))
        result = run_container(runtime, spec, sink)
        assert result.exit_code == 0
        for stream, first in ((Stream.STDOUT, 0), (Stream.STDERR, 1)):
            got = sink.text(stream).splitlines()
            want = [f"line {i}" for i in range(first, lines, 2)]
            assert got == want, _first_difference(stream, got, want)

    def test_read_output_after_exit_is_every_byte(self, runtime: ContainerRuntime,
                                                  image: str) -> None:
        """``read_output`` of a finished container: both streams byte for byte, with a
        line longer than any engine's log record, an empty line and a last line with no
        newline. (Bytes that are not UTF-8 are not asked of it: docker keeps its logs in
        JSON and reads them back with U+FFFD in their place; the live output carries
        them exactly, which the log-flood bench checks on both engines.)"""
        program = textwrap.dedent("""
            import sys
            out, err = sys.stdout.buffer, sys.stderr.buffer
            out.write(b"first\\n\\n"); out.flush()
            err.write(b"to stderr\\n"); err.flush()
            out.write(b"<" + b"y" * 100000 + b">\\n"); out.flush()
            err.write(b"partial "); err.flush()
            err.write(b"end"); err.flush()
            out.write(b"no newline at the end")
        """)
        expected = {Stream.STDOUT: b"first\n\n<" + b"y" * 100000 + b">\n"
                                   b"no newline at the end",
                    Stream.STDERR: b"to stderr\npartial end"}
        container_id = runtime.create(ContainerSpec(image=image,
                                                    command=("python3", "-c", program)))
        try:
            runtime.start(container_id)
            assert runtime.wait(container_id, 60.0) == 0
            got = {Stream.STDOUT: b"", Stream.STDERR: b""}
            for stream, data in runtime.read_output(container_id):
                got[stream] += data
        finally:
            runtime.remove(container_id)
        assert got == expected

    def test_output_arrives_while_the_container_runs(self, runtime: ContainerRuntime,
                                                     image: str) -> None:
        first_seen: list[float] = []

        def sink(stream: Stream, data: bytes) -> None:
            if not first_seen:
                first_seen.append(time.monotonic())

        run_container(runtime, ContainerSpec(
            image=image, command=("sh", "-c", "echo early; sleep 5; echo late")), sink)
        finished = time.monotonic()
        # "early" reached the sink while the container still had seconds of sleep ahead.
        assert first_seen and finished - first_seen[0] >= 3

    def test_on_started_runs_while_the_container_runs(self, runtime: ContainerRuntime,
                                                      image: str) -> None:
        labels = unique_label()
        states: list[list[str]] = []
        result = run_container(
            runtime, ContainerSpec(image=image, command=("sh", "-c", "sleep 2; exit 4"),
                                   labels=labels),
            lambda _stream, _data: None,
            on_started=lambda: states.append([c.status for c in
                                              runtime.list_containers(labels)]))
        assert states == [["running"]]
        assert result.exit_code == 4 and runtime.list_containers(labels) == []

    # -- isolation -----------------------------------------------------------------------

    def test_read_only_mount_cannot_be_written(self, runtime: ContainerRuntime, image: str,
                                              tmp_path: Path) -> None:
        (tmp_path / "ro").mkdir()
        (tmp_path / "rw").mkdir()
        (tmp_path / "ro" / "input").write_text("data\n")
        os.chmod(tmp_path / "rw", 0o777)
        _, sink = _run(
            runtime, image,
            "cat /in/input; touch /in/new && echo WROTE-RO; touch /out/new && echo WROTE-RW",
            mounts=(Mount(tmp_path / "ro", "/in"), Mount(tmp_path / "rw", "/out", writable=True)),
        )
        assert sink.text().splitlines() == ["data", "WROTE-RW"]
        assert "Read-only file system" in sink.text(Stream.STDERR)
        assert not (tmp_path / "ro" / "new").exists()
        assert (tmp_path / "rw" / "new").exists()

    def test_user_is_honoured(self, runtime: ContainerRuntime, image: str) -> None:
        _, sink = _run(runtime, image, "id -u; id -g", user="1000:1000")
        assert sink.text().split() == ["1000", "1000"]

    def test_environment_and_workdir_are_honoured(self, runtime: ContainerRuntime,
                                                  image: str) -> None:
        _, sink = _run(runtime, image, 'echo "$GREETING"; pwd',
                       environment={"GREETING": "hello there"}, workdir="/tmp")
        assert sink.text().splitlines() == ["hello there", "/tmp"]

    def test_network_off_means_no_interface_but_loopback(self, runtime: ContainerRuntime,
                                                         image: str) -> None:
        # Reads the interface table only: no packet leaves the container either way.
        script = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"
        _, off = _run(runtime, image, script, network=False)
        _, on = _run(runtime, image, script, network=True)
        assert off.text().split() == ["lo"]
        assert set(on.text().split()) - {"lo"}, "network=True should give an interface"

    def test_capabilities_are_dropped_and_no_new_privileges(
            self, runtime: ContainerRuntime, image: str) -> None:
        _, sink = _run(runtime, image, "grep -E '^(CapEff|NoNewPrivs):' /proc/self/status")
        fields = dict(line.split(":\t") for line in sink.text().splitlines())
        assert fields["CapEff"].strip() == "0000000000000000"
        assert fields["NoNewPrivs"].strip() == "1"

    def test_limits_are_applied(self, runtime: ContainerRuntime, image: str) -> None:
        script = (
            "cat /sys/fs/cgroup/memory.max 2>/dev/null "
            "|| cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
            "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max"
        )
        _, sink = _run(runtime, image, script,
                       limits=Limits(memory_bytes=256 * 1024 * 1024, pids=123))
        assert sink.text().split() == [str(256 * 1024 * 1024), "123"]

    def test_an_oom_kill_of_a_child_process_is_reported(self, runtime: ContainerRuntime,
                                                        image: str) -> None:
        """A child that allocates past the limit is killed; the first process survives and
        exits 1 (as rpmbuild does when its %build shell dies): still ``oom_killed``."""
        script = ("python3 -c 'b = bytearray(200 * 1024 * 1024)'; "
                  "echo child=$?; sleep 1; exit 1")
        result, sink = _run(runtime, image, script,
                            limits=Limits(memory_bytes=OOM_LIMIT, pids=64))
        assert sink.text().strip() == "child=137"  # the kernel's SIGKILL
        assert (result.exit_code, result.oom_killed) == (1, True)

    def test_a_run_within_its_memory_limit_is_not_oom_killed(
            self, runtime: ContainerRuntime, image: str) -> None:
        result, _ = _run(runtime, image, "python3 -c 'b = bytearray(4 * 1024 * 1024)'; exit 1",
                         limits=Limits(memory_bytes=OOM_LIMIT, pids=64))
        assert (result.exit_code, result.oom_killed) == (1, False)

    def test_ulimits_are_applied(self, runtime: ContainerRuntime, image: str) -> None:
        """kojid's RLIMIT_* options reach the build as the container's rlimits."""
        _, sink = _run(runtime, image, "ulimit -Sn; ulimit -Hn; ulimit -Sc",
                       limits=Limits(ulimits=(("nofile", 512, 1024), ("core", 0, 0))))
        assert sink.text().split() == ["512", "1024", "0"]

    # -- labels --------------------------------------------------------------------------

    def test_containers_are_found_by_label(self, runtime: ContainerRuntime,
                                           image: str) -> None:
        mine, other = unique_label(), unique_label()
        cid = runtime.create(ContainerSpec(image=image, command=("true",), labels=mine))
        try:
            found = runtime.list_containers(mine)
            assert [c.id for c in found] == [cid]
            assert found[0].labels["io.koji-adjutant.test"] == mine["io.koji-adjutant.test"]
            assert found[0].labels["io.koji-adjutant.managed"] == "true"
            assert runtime.list_containers(other) == []
        finally:
            runtime.remove(cid)

    # -- timeouts and cleanup ------------------------------------------------------------

    def test_timeout_kills_and_removes_the_container(self, runtime: ContainerRuntime,
                                                     image: str) -> None:
        labels = unique_label()
        started = time.monotonic()
        result, _ = _run(runtime, image, "sleep 120", labels=labels, timeout=2)
        assert result.timed_out and not result.ok
        assert time.monotonic() - started < 30
        assert runtime.list_containers(labels) == []

    def test_cleanup_when_the_sink_raises(self, runtime: ContainerRuntime, image: str) -> None:
        labels = unique_label()

        def broken_sink(stream: Stream, data: bytes) -> None:
            raise RuntimeError("sink exploded")

        with pytest.raises(RuntimeError, match="sink exploded"):
            run_container(runtime, ContainerSpec(image=image, labels=labels,
                                                 command=("sh", "-c", "echo hi; sleep 1")),
                          broken_sink)
        assert runtime.list_containers(labels) == []

    def test_cleanup_on_interrupt(self, runtime: ContainerRuntime, image: str) -> None:
        labels = unique_label()
        program = textwrap.dedent(f"""
            import sys
            from adjutant.container.run import run_container
            from adjutant.container.spec import ContainerSpec
            from adjutant.engine import open_runtime
            from adjutant.plugin.manager import load_plugins
            rt = open_runtime(load_plugins(), {runtime.name!r})
            spec = ContainerSpec(image={image!r}, command=("sleep", "120"), labels={labels!r})
            run_container(rt, spec, lambda s, d: None,
                          on_created=lambda cid: print("CREATED", flush=True))
        """)
        proc = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE,
                                text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "CREATED"
        deadline = time.monotonic() + 30
        while not runtime.list_containers(labels) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # let it reach wait()
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        assert proc.returncode != 0
        assert runtime.list_containers(labels) == []


class ImageConformance:
    """Image operations a runtime must support (commit, tag, size, removal rules).

    Same fixtures as :class:`RuntimeConformance`.
    """

    def test_storage_path_is_the_engines_local_directory(self, runtime: ContainerRuntime,
                                                         image: str) -> None:
        # Where ``adjutant doctor`` measures free space; the engine runs on this machine.
        path = runtime.storage_path()
        assert path.is_absolute() and path.is_dir(), path

    def test_commit_tag_size_and_remove(self, runtime: ContainerRuntime, image: str) -> None:
        label = unique_label()
        ref = f"localhost/adjutant-conformance:{label['io.koji-adjutant.test'][:12]}"
        alias, by_id = f"{ref}-alias", f"{ref}-by-id"
        cid = runtime.create(ContainerSpec(image=image, labels=label,
                                           command=("sh", "-c", "echo kept > /var/tmp/kept")))
        try:
            runtime.start(cid)
            assert runtime.wait(cid, 60) == 0
            image_id = runtime.commit(cid, ref, {"io.koji-adjutant.test-commit": "yes"})
        finally:
            runtime.remove(cid)
        try:
            info = runtime.inspect_image(ref)
            assert info is not None and info.id == image_id and image_id.startswith("sha256:")
            assert info.labels["io.koji-adjutant.test-commit"] == "yes" and info.size > 0
            assert runtime.image_labels(ref) == dict(info.labels)
            assert runtime.image_size(ref) == info.size
            runtime.tag_image(ref, alias)
            assert runtime.image_id(alias) == image_id
            runtime.tag_image(image_id, by_id)
            assert runtime.image_id(by_id) == image_id
            assert runtime.image_names(split_ref(ref)[0]) == sorted([ref, alias, by_id])
            runtime.remove_image(alias)  # removes a name, not the image
            runtime.remove_image(by_id)
            assert runtime.image_id(alias) is None and runtime.image_id(ref) == image_id
            _, sink = _run(runtime, ref, "cat /var/tmp/kept")
            assert sink.text() == "kept\n"
        finally:
            runtime.remove_image(ref)
        assert runtime.inspect_image(ref) is None and runtime.image_id(ref) is None
        assert runtime.image_size(ref) is None and runtime.image_labels(ref) == {}
        runtime.remove_image(ref)  # absent: not an error

    def test_an_image_tells_its_arch(self, runtime: ContainerRuntime, image: str) -> None:
        info = runtime.inspect_image(image)
        assert info is not None and info.arch == host_arch()

    def test_an_archive_of_another_arch_loads_with_its_arch(
            self, runtime: ContainerRuntime, image: str, tmp_path: Path) -> None:
        # How a foreign-arch default image comes in: an import would say the host's arch.
        root = tmp_path / "root"
        (root / "etc").mkdir(parents=True)
        (root / "etc" / "marker").write_text("arm64 rootfs\n")
        rootfs = tmp_path / "rootfs.tar"
        with tarfile.open(rootfs, "w") as tar:
            tar.add(root, arcname=".")
        label = unique_label()["io.koji-adjutant.test"][:12]
        ref = f"localhost/adjutant-conformance:arm64-{label}"
        archive = tmp_path / "image.tar"
        write_archive(rootfs, archive, ref, "arm64", {"io.koji-adjutant.test-load": label})
        image_id = runtime.load_archive(archive, ref)
        try:
            info = runtime.inspect_image(ref)
            assert info is not None and info.id == image_id and image_id.startswith("sha256:")
            assert info.arch == "aarch64"
            assert info.labels["io.koji-adjutant.test-load"] == label
        finally:
            runtime.remove_image(ref)
        assert runtime.image_id(ref) is None

    def test_an_image_in_use_survives_a_non_forced_removal(self, runtime: ContainerRuntime,
                                                          image: str) -> None:
        label = unique_label()
        ref = f"localhost/adjutant-conformance:inuse-{label['io.koji-adjutant.test'][:8]}"
        runtime.tag_image(image, ref)
        cid = runtime.create(ContainerSpec(image=ref, command=("sleep", "30"), labels=label))
        try:
            # Only a name is removed while the image keeps another one; give it just one
            # name by committing, then try to remove it under a container.
            committed = f"{ref}-only"
            runtime.start(cid)
            only_id = runtime.commit(cid, committed, {})
            user = runtime.create(ContainerSpec(image=committed, command=("sleep", "30"),
                                                labels=label))
            try:
                with pytest.raises(ContainerError):
                    runtime.remove_image(committed, force=False)
                assert runtime.image_id(committed) == only_id
            finally:
                runtime.remove(user)
            runtime.remove_image(committed, force=False)
            assert runtime.image_id(committed) is None
        finally:
            runtime.remove(cid)
            runtime.remove_image(ref)
