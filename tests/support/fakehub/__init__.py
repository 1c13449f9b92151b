"""A fake Koji hub for tests: the real hub's protocol and rules, in memory, over HTTP.

Quick start::

    with FakeHub(tmp_path) as hub:
        hub.add_host("builder1", password="secret")
        task_id = hub.make_task("sleep", [1])
        session = koji.ClientSession(hub.url, {"user": "builder1", "password": "secret"})
        session.login()
        session.exclusiveSession()
        session.host.getTasks()  # → [{'id': task_id, 'state': ASSIGNED, ...}]

The rules it enforces are the checklist of ``koji-protocol.md`` §11; see :class:`FakeHub` for
the test-side API and ``python -m tests.support.fakehub --help`` to run one by hand.
"""

from .config import HUB_VERSION, HubConfig
from .history import HubHistory
from .hub import FakeHub

__all__ = ["HUB_VERSION", "FakeHub", "HubConfig", "HubHistory"]
