"""Rated system entries and looking up a conversation's system entries."""

import pytest

from plugins.redis_history import RedisHistoryStore

CONVERSATION = {"id": "7", "customer": "c:1", "agent": "a:1", "started_at": 1000.5}


@pytest.fixture
def store(redis_client, key_prefix):
    """A history store under the test's key prefix."""
    return RedisHistoryStore(redis_client, prefix=key_prefix, ttl=3600)


def test_find_system_entry_returns_closed_entry(store):
    store.append_system("c:1", "a:1", event="started", conversation=CONVERSATION, now=1000.5)
    store.append_system("c:1", "a:1", event="closed", conversation=CONVERSATION, now=1010.0, reason="customer")

    closed = store.find_system_entry("a:1", "c:1", event="closed", conversation_id="7")

    assert closed["seq"] == 2
    assert closed["reason"] == "customer"
    assert closed["conversation"] == CONVERSATION


def test_find_system_entry_missing_is_none(store):
    store.append_system("c:1", "a:1", event="started", conversation=CONVERSATION, now=1000.5)

    assert store.find_system_entry("c:1", "a:1", event="closed", conversation_id="7") is None
    assert store.find_system_entry("c:1", "a:1", event="started", conversation_id="8") is None


def test_rated_entry_stored_once(store):
    first = store.append_system(
        "c:1", "a:1", event="rated", conversation=CONVERSATION, now=1020.0, rating={"score": 5, "comment": None}
    )
    second = store.append_system(
        "c:1", "a:1", event="rated", conversation=CONVERSATION, now=1030.0, rating={"score": 1, "comment": "no"}
    )

    assert first["rating"] == {"score": 5, "comment": None}
    assert second == first
    assert store.last_seq("c:1", "a:1") == 1


@pytest.mark.parametrize(
    ("event", "reason", "rating"),
    [
        ("rated", None, None),
        ("rated", None, {"score": "5"}),
        ("rated", "customer", {"score": 5}),
        ("closed", "customer", {"score": 5}),
        ("started", None, {"score": 5}),
    ],
)
def test_append_system_rejects_bad_rating(store, event, reason, rating):
    with pytest.raises(ValueError):
        store.append_system("c:1", "a:1", event=event, conversation=CONVERSATION, now=1.0, reason=reason, rating=rating)

    assert store.last_seq("c:1", "a:1") == 0
