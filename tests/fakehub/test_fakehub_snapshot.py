"""The dispatcher's snapshot of the database: what a faulted call is rolled back to and
what decides whether a call changed anything."""

from tests.support.fakehub.dispatch import Snapshot
from tests.support.fakehub.state import HubDB, User


def _db() -> HubDB:
    db = HubDB()
    db.users[1] = User(1, "alice", None, perms={"admin", "build", "repo", "tag"})
    return db


def test_restore_gives_an_equal_copy_that_later_changes_do_not_reach() -> None:
    db = _db()
    snapshot = Snapshot(db)
    db.users[1].perms.add("host")
    db.users[2] = User(2, "bob", None)
    restored = snapshot.restore()
    assert restored == _db()
    assert restored.users[1] is not db.users[1]


def test_a_changed_value_differs() -> None:
    db = _db()
    snapshot = Snapshot(db)
    assert not snapshot.differs(db)
    db.users[1].name = "carol"
    assert snapshot.differs(db)


def test_equal_values_that_pickle_differently_do_not_differ() -> None:
    db = _db()
    db.users[2] = User(2, "bob", None, perms={"build"})
    db.users[3] = User(3, "carol", None, perms={"build"})
    snapshot = Snapshot(db)
    # One set shared by two users pickles as a back-reference, unlike two equal sets.
    db.users[3].perms = db.users[2].perms
    assert not snapshot.differs(db)
