"""The suite's own guard: a container or image a test run leaves behind fails that run."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


@pytest.mark.engine
def test_a_left_container_fails_the_run_and_is_removed(pytester: pytest.Pytester) -> None:
    conftest = Path(__file__).resolve().parents[1] / "conftest.py"
    pytester.makeconftest(conftest.read_text())
    pytester.makepyfile(test_leaky="""
        from adjutant.container.spec import ContainerSpec
        from adjutant.image.default import DEFAULT_IMAGE
        from adjutant.testing.engines import open_engine

        def test_leaves_a_container():
            runtime = open_engine("podman")
            runtime.create(ContainerSpec(image=DEFAULT_IMAGE, command=("true",),
                                         labels={"io.koji-adjutant.test": "leaky"}))
            runtime.tag_image(DEFAULT_IMAGE, "localhost/adjutant-task-buildroot:leaky-1")
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*left behind by the tests (now removed)*",
                                 "*podman: container *leaky*",
                                 "*podman: image localhost/adjutant-task-buildroot:leaky-1*"])
    from adjutant.testing.engines import open_engine

    podman = open_engine("podman")
    assert podman.list_containers({"io.koji-adjutant.test": "leaky"}) == []
    assert podman.image_names("localhost/adjutant-task-buildroot") == []
