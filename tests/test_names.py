"""Display names remembered from tokens, in Redis."""

import pytest
import redis

from imflask.names import DisplayNames
from tests.harness import free_port


@pytest.fixture
def names(redis_client, key_prefix):
    """A name store on the test Redis under the test's key prefix."""
    return DisplayNames(redis_client, key_prefix, ttl=600)


def test_names_lookup_returns_stored_names(names):
    names.remember("agent:1", "Alice")
    names.remember("cust-2", "小明 😀")

    assert names.lookup(["agent:1", "cust-2", "nobody", "agent:1"]) == {"agent:1": "Alice", "cust-2": "小明 😀"}
    assert names.lookup([]) == {}


def test_names_expire_with_history_ttl(names, redis_client, key_prefix):
    names.remember("agent:1", "Alice")

    ttl = redis_client.ttl(f"{key_prefix}:name:agent:1")

    assert 0 < ttl <= 600


def test_names_empty_name_deletes(names):
    names.remember("agent:1", "Alice")
    names.remember("agent:1", "")

    assert names.lookup(["agent:1"]) == {}


def test_names_unreachable_redis_is_not_fatal(caplog):
    dead = redis.Redis(port=free_port(), socket_connect_timeout=0.2, decode_responses=True)
    names = DisplayNames(dead, "imtest-dead", ttl=600)

    names.remember("agent:1", "Alice")

    assert names.lookup(["agent:1"]) == {}
    assert "could not store the display name of uid=agent:1" in caplog.text
    assert "could not read the display names of 1 uids" in caplog.text
    dead.close()
