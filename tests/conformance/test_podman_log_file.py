"""podman follows and reads a container's output in its k8s-file log, not the API, and
both give the same bytes (the API stays the fallback)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest

from adjutant.container.run import run_container
from adjutant.container.runtime import ContainerRuntime
from adjutant.container.spec import ContainerSpec, Stream
from adjutant.testing.engines import engine_with_default_image
from adjutant_podman.logfile import K8sLogFollow

PROGRAM = textwrap.dedent("""
    import sys
    for i in range(20000):
        (sys.stdout if i % 3 else sys.stderr).write(f"line {i}\\n")
    sys.stdout.flush()
    sys.stdout.buffer.write(b"z" * 50000 + b"\\xc3(")
""")


@pytest.fixture(scope="module")
def podman() -> Iterator[tuple[ContainerRuntime, str]]:
    yield from engine_with_default_image("podman")


@pytest.fixture
def finished(podman: tuple[ContainerRuntime, str]) -> Iterator[tuple[ContainerRuntime, str]]:
    runtime, image = podman
    container_id = runtime.create(ContainerSpec(image=image,
                                                command=("python3", "-c", PROGRAM)))
    try:
        runtime.start(container_id)
        assert runtime.wait(container_id, 60.0) == 0
        yield runtime, container_id
    finally:
        runtime.remove(container_id)


def _joined(output: Iterator[tuple[Stream, bytes]]) -> dict[Stream, bytes]:
    got = {Stream.STDOUT: b"", Stream.STDERR: b""}
    for stream, data in output:
        got[stream] += data
    return got


def test_the_log_file_is_read_and_matches_the_api(
        finished: tuple[ContainerRuntime, str], monkeypatch: pytest.MonkeyPatch) -> None:
    runtime, container_id = finished
    assert runtime._log_file(container_id) is not None  # type: ignore[attr-defined]
    from_api = _joined(runtime._read_output_api(container_id))  # type: ignore[attr-defined]

    def no_api(_container_id: str) -> Iterator[tuple[Stream, bytes]]:
        raise AssertionError("the API was read although the log file was there")

    monkeypatch.setattr(runtime, "_read_output_api", no_api)
    from_file = _joined(runtime.read_output(container_id))
    assert from_file == from_api
    assert from_file[Stream.STDOUT].endswith(b"z" * 50000 + b"\xc3(")
    assert from_file[Stream.STDERR].startswith(b"line 0\nline 3\n")


def test_a_log_file_that_breaks_the_format_falls_back_to_the_api_without_doubling(
        finished: tuple[ContainerRuntime, str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: object) -> None:
    runtime, container_id = finished
    real = runtime._log_file(container_id)  # type: ignore[attr-defined]
    assert real is not None
    from_api = _joined(runtime._read_output_api(container_id))  # type: ignore[attr-defined]
    # The first 1000 records, then one that is not a record: the rest comes from the API.
    with open(real, "rb") as fh:
        head = b"".join(fh.readline() for _ in range(1000))
    broken = f"{tmp_path}/ctr.log"
    with open(broken, "wb") as fh:
        fh.write(head + b"garbage\n")
    monkeypatch.setattr(runtime, "_log_file", lambda _cid: broken)
    assert _joined(runtime.read_output(container_id)) == from_api


def test_a_run_follows_the_log_file_and_never_asks_the_api_for_output(
        podman: tuple[ContainerRuntime, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The follower reads the file once: told of the exit, it drains to the end, and the
    runner does not read the output again from the start."""
    runtime, image = podman
    followers: list[object] = []
    real_output = runtime.output

    def output(container_id: str) -> object:
        follower = real_output(container_id)
        followers.append(follower)
        return follower

    def no_api(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the API was asked for output although the log file was there")

    monkeypatch.setattr(runtime, "output", output)
    monkeypatch.setattr(runtime, "_log_stream", no_api)
    monkeypatch.setattr(runtime, "_read_output_api", no_api)

    def no_second_read(*_args: object) -> None:
        raise AssertionError("the output was read again after the follower was told")

    monkeypatch.setattr(runtime, "read_output", no_second_read)
    got = {Stream.STDOUT: b"", Stream.STDERR: b""}

    def sink(stream: Stream, data: bytes) -> None:
        got[stream] += data

    result = run_container(runtime, ContainerSpec(image=image,
                                                  command=("python3", "-c", PROGRAM)), sink)
    assert result.exit_code == 0
    assert followers and all(isinstance(f, K8sLogFollow) for f in followers)
    lines = [f"line {i}\n" for i in range(20000)]
    assert got[Stream.STDERR] == "".join(lines[::3]).encode()
    assert got[Stream.STDOUT] == ("".join(line for i, line in enumerate(lines) if i % 3)
                                  ).encode() + b"z" * 50000 + b"\xc3("


def test_the_log_file_is_known_from_the_create_without_another_inspection(
        podman: tuple[ContainerRuntime, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """podman-py inspects the container it creates; that answer names the log file, so
    following the output costs no engine call of its own."""
    runtime, image = podman
    container_id = runtime.create(ContainerSpec(image=image, command=("echo", "hello")))
    try:
        api = runtime.client.api  # type: ignore[attr-defined]
        asked: list[str] = []
        real_get = api.get

        def counting_get(path: str, *args: object, **kwargs: object) -> object:
            asked.append(path)
            return real_get(path, *args, **kwargs)

        monkeypatch.setattr(api, "get", counting_get)
        follower = runtime.output(container_id)
        monkeypatch.undo()
        assert isinstance(follower, K8sLogFollow)
        follower.close()
        assert not any(p.endswith(f"/containers/{container_id}/json") for p in asked), asked
    finally:
        runtime.remove(container_id)
