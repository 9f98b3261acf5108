"""Tests of the Redis history store against a real Redis server."""

import itertools
import json
import math
import socket
import zlib

import pluggy
import pytest
import redis

import plugins.redis_history as redis_history
from imflask import PROJECT_NAME
from imflask.errors import ImflaskError
from plugins.redis_history import RedisHistoryStore, make_redis_history
from plugins.redis_history.store import ACTIVITY_TRIM_INTERVAL

TTL = 3600
T0 = 1733340000.0
CUSTOMER = "cust:1"
AGENT = "agent:1"


@pytest.fixture
def store(redis_client, key_prefix):
    """A history store with a one-hour ttl under the test's key prefix."""
    return RedisHistoryStore(redis_client, prefix=key_prefix, ttl=TTL)


def conversation(conversation_id="conv-1"):
    return {"id": conversation_id, "customer": CUSTOMER, "agent": AGENT, "started_at": T0}


def message_fields(redis_client, key):
    return [field for field in redis_client.hkeys(key) if field.startswith("m:")]


def append_many(store, count, *, start=T0, padding=""):
    for index in range(count):
        sender, recipient = (CUSTOMER, AGENT) if index % 2 == 0 else (AGENT, CUSTOMER)
        store.append(sender, recipient, f"message {index + 1}{padding}", now=start + index)


def seqs(messages):
    return [message["seq"] for message in messages]


# -- pair key -------------------------------------------------------------------


def test_pair_key_shared_by_both_directions(store, redis_client, key_prefix):
    store.append(CUSTOMER, AGENT, "hello", now=T0)
    store.append(AGENT, CUSTOMER, "hi", now=T0 + 1)

    assert list(redis_client.scan_iter(match=f"{key_prefix}:h:*")) == [store.pair_key(CUSTOMER, AGENT)]
    assert store.last_seq(AGENT, CUSTOMER) == 2


def test_pair_key_int_uid_joins_str_pair(store):
    store.append(7, "agent", "as int", now=T0)
    second = store.append("7", "agent", "as str", now=T0 + 1)

    assert second.message["seq"] == 2
    assert [message["from"] for message in store.read("agent", 7)] == ["7", "7"]


@pytest.mark.parametrize(
    ("first", "second"),
    [(("a:b", "c"), ("a", "b:c")), (("1:2", "3"), ("1", "2:3"))],
)
def test_pair_key_colon_uids_stored_apart(store, first, second):
    store.append(*first, "first pair", now=T0)
    store.append(*second, "second pair", now=T0)

    assert store.last_seq(*first) == 1
    assert store.last_seq(*second) == 1
    assert store.read(*first)[0]["body"] == "first pair"


def test_parse_pair_key_inverts_store_key(store):
    key = store.pair_key("😀:{x}", "客服:1")

    assert store.parse_pair_key(key) == ("客服:1", "😀:{x}")


# -- append: ttl ----------------------------------------------------------------


def test_append_ttl_set_on_first_write(store, redis_client):
    store.append(CUSTOMER, AGENT, "hello", now=T0)

    assert TTL - 1 <= redis_client.ttl(store.pair_key(CUSTOMER, AGENT)) <= TTL


def test_append_ttl_renewed_on_later_write(store, redis_client):
    store.append(CUSTOMER, AGENT, "hello", now=T0)
    redis_client.expire(store.pair_key(CUSTOMER, AGENT), 10)

    store.append(AGENT, CUSTOMER, "hi", now=T0 + 1)

    assert store.ttl(CUSTOMER, AGENT) >= TTL - 1


def test_append_ttl_renewed_on_duplicate(store, redis_client):
    store.append(CUSTOMER, AGENT, "hello", now=T0, client_msg_id="c1")
    redis_client.expire(store.pair_key(CUSTOMER, AGENT), 10)

    store.append(CUSTOMER, AGENT, "hello", now=T0 + 1, client_msg_id="c1")

    assert store.ttl(CUSTOMER, AGENT) >= TTL - 1


def test_append_ttl_from_store_setting(redis_client, key_prefix):
    store = RedisHistoryStore(redis_client, prefix=key_prefix, ttl=90)

    store.append(CUSTOMER, AGENT, "hello", now=T0)

    assert 89 <= store.ttl(CUSTOMER, AGENT) <= 90


@pytest.mark.parametrize("ttl", [0, -1, 1.5, "60", True])
def test_store_rejects_invalid_ttl(redis_client, key_prefix, ttl):
    with pytest.raises(ValueError):
        RedisHistoryStore(redis_client, prefix=key_prefix, ttl=ttl)


# -- append: client_msg_id ------------------------------------------------------


def test_append_retry_stores_once(store, redis_client):
    first = store.append(CUSTOMER, AGENT, "hello", now=T0, client_msg_id="c1")
    retry = store.append(CUSTOMER, AGENT, "hello again", now=T0 + 5, client_msg_id="c1")

    assert first.duplicate is False
    assert retry.duplicate is True
    assert retry.message == first.message
    assert retry.message["body"] == "hello"
    assert store.last_seq(CUSTOMER, AGENT) == 1
    assert message_fields(redis_client, store.pair_key(CUSTOMER, AGENT)) == ["m:1"]


def test_append_client_id_scoped_by_sender(store):
    store.append(CUSTOMER, AGENT, "from customer", now=T0, client_msg_id="c1")
    other_side = store.append(AGENT, CUSTOMER, "from agent", now=T0 + 1, client_msg_id="c1")

    assert other_side.duplicate is False
    assert other_side.message["seq"] == 2
    assert other_side.message["body"] == "from agent"


def test_append_without_client_id_never_deduplicates(store):
    store.append(CUSTOMER, AGENT, "same", now=T0)
    second = store.append(CUSTOMER, AGENT, "same", now=T0)

    assert second.duplicate is False
    assert second.message["seq"] == 2


def test_append_returns_message_shape(store):
    stored = store.append(CUSTOMER, AGENT, "hello", now=T0, client_msg_id="c1")

    assert stored.message == {
        "seq": 1,
        "type": "text",
        "from": CUSTOMER,
        "to": AGENT,
        "body": "hello",
        "ts": T0,
        "client_msg_id": "c1",
    }


def test_append_stores_short_form(store, redis_client):
    # AGENT sorts before CUSTOMER, so the customer is side 1 and the agent side 0.
    store.append(CUSTOMER, AGENT, "你好", now=T0)
    store.append(AGENT, CUSTOMER, "hi", now=T0 + 1, client_msg_id="a-1")
    store.append_system(CUSTOMER, AGENT, event="started", conversation=conversation(), now=T0 + 2)

    raw = redis_client.hmget(store.pair_key(CUSTOMER, AGENT), ["m:1", "m:2", "m:3"])

    assert raw[0] == '1,"body":"你好","ts":1733340000.0,"client_msg_id":null}'
    assert raw[1] == '0,"body":"hi","ts":1733340001.0,"client_msg_id":"a-1"}'
    assert raw[2] == (
        's,"body":"","ts":1733340002.0,"client_msg_id":null,"event":"started",'
        '"conversation":{"id":"conv-1","customer":"cust:1","agent":"agent:1","started_at":1733340000.0}}'
    )


def test_read_rebuilds_message_json(store):
    stored = store.append(CUSTOMER, AGENT, "你好", now=T0, client_msg_id="c1")

    [message] = store.read(CUSTOMER, AGENT)

    assert json.dumps(message, ensure_ascii=False, separators=(",", ":")) == (
        '{"seq":1,"type":"text","from":"cust:1","to":"agent:1","body":"你好",'
        '"ts":1733340000.0,"client_msg_id":"c1"}'
    )
    assert message == stored.message


@pytest.mark.parametrize("now", [math.nan, math.inf])
def test_append_rejects_non_finite_ts(store, now):
    with pytest.raises(ValueError):
        store.append(CUSTOMER, AGENT, "hello", now=now)

    assert store.last_seq(CUSTOMER, AGENT) == 0


def test_append_rejects_non_str_body(store):
    with pytest.raises(TypeError):
        store.append(CUSTOMER, AGENT, b"bytes", now=T0)


# -- append: client id window --------------------------------------------------


def test_same_id_both_senders_apart(store):
    from_customer = store.append(CUSTOMER, AGENT, "from customer", now=T0, client_msg_id="same")
    from_agent = store.append(AGENT, CUSTOMER, "from agent", now=T0 + 1, client_msg_id="same")

    customer_retry = store.append(CUSTOMER, AGENT, "retry", now=T0 + 2, client_msg_id="same")
    agent_retry = store.append(AGENT, CUSTOMER, "retry", now=T0 + 3, client_msg_id="same")

    assert customer_retry == redis_history.StoredMessage(message=from_customer.message, duplicate=True)
    assert agent_retry == redis_history.StoredMessage(message=from_agent.message, duplicate=True)
    assert store.last_seq(CUSTOMER, AGENT) == 2


@pytest.fixture
def small_window_store(redis_client, key_prefix):
    """A history store that deduplicates the last 3 client ids of each sender, in one bucket."""
    return RedisHistoryStore(redis_client, prefix=key_prefix, ttl=TTL, client_id_window=3)


def append_with_ids(store, count, *, sender=CUSTOMER, recipient=AGENT):
    """Append ``count`` messages from ``sender`` with client ids id-0, id-1 and so on."""
    for index in range(count):
        store.append(sender, recipient, f"message {index}", now=T0 + index, client_msg_id=f"id-{index}")


def test_client_id_window_dedupes_inside(small_window_store):
    store = small_window_store
    first = store.append(CUSTOMER, AGENT, "one", now=T0, client_msg_id="id-1")
    store.append(CUSTOMER, AGENT, "two", now=T0 + 1, client_msg_id="id-2")
    store.append(CUSTOMER, AGENT, "three", now=T0 + 2, client_msg_id="id-3")

    retry = store.append(CUSTOMER, AGENT, "one again", now=T0 + 3, client_msg_id="id-1")

    assert retry.duplicate is True
    assert retry.message == first.message
    assert store.last_seq(CUSTOMER, AGENT) == 3


def test_client_id_window_keeps_last_ids(small_window_store):
    store = small_window_store
    append_with_ids(store, 7)

    retries = [store.append(CUSTOMER, AGENT, "retry", now=T0 + 10, client_msg_id=f"id-{index}") for index in (4, 5, 6)]

    assert [retry.duplicate for retry in retries] == [True, True, True]
    assert [retry.message["seq"] for retry in retries] == [5, 6, 7]
    assert store.last_seq(CUSTOMER, AGENT) == 7


def test_client_id_window_reuse_beyond(small_window_store):
    store = small_window_store
    append_with_ids(store, 7)

    reused = store.append(CUSTOMER, AGENT, "reused id", now=T0 + 10, client_msg_id="id-3")
    retry = store.append(CUSTOMER, AGENT, "retry of reused", now=T0 + 11, client_msg_id="id-3")

    assert reused.duplicate is False
    assert reused.message["seq"] == 8
    assert reused.message["body"] == "reused id"
    assert retry.duplicate is True
    assert retry.message == reused.message


def test_client_id_window_boundary(small_window_store):
    store = small_window_store
    append_with_ids(store, 3)

    oldest_retry = store.append(CUSTOMER, AGENT, "retry", now=T0 + 10, client_msg_id="id-0")
    store.append(CUSTOMER, AGENT, "fourth", now=T0 + 11, client_msg_id="id-3")
    oldest_reused = store.append(CUSTOMER, AGENT, "reused", now=T0 + 12, client_msg_id="id-0")

    assert oldest_retry.duplicate is True
    assert oldest_reused.duplicate is False
    assert oldest_reused.message["seq"] == 5


def test_client_id_window_per_sender(small_window_store):
    store = small_window_store
    agent_first = store.append(AGENT, CUSTOMER, "agent message", now=T0, client_msg_id="agent-1")
    append_with_ids(store, 10)

    retry = store.append(AGENT, CUSTOMER, "agent retry", now=T0 + 20, client_msg_id="agent-1")

    assert retry.duplicate is True
    assert retry.message == agent_first.message


def test_client_id_window_fields_bounded(small_window_store, redis_client):
    store = small_window_store
    append_with_ids(store, 10)

    fields = redis_client.hgetall(store.pair_key(CUSTOMER, AGENT))

    # CUSTOMER sorts after AGENT, so its ids are on side 1. Each entry is the
    # id, its seq and its number among the sender's ids.
    assert fields["r:1"] == "10"
    assert fields["r:1:0"] == "\x1eid-7\x1f8\x1f8\x1eid-8\x1f9\x1f9\x1eid-9\x1f10\x1f10"
    assert sorted(name for name in fields if not name.startswith("m:")) == ["r:1", "r:1:0", "seq"]


def test_client_id_window_default_keeps_256(store, redis_client):
    append_with_ids(store, 300)

    inside = store.append(CUSTOMER, AGENT, "retry", now=T0 + 400, client_msg_id="id-44")
    beyond = store.append(CUSTOMER, AGENT, "reused", now=T0 + 401, client_msg_id="id-43")
    fields = redis_client.hgetall(store.pair_key(CUSTOMER, AGENT))
    buckets = [name for name in fields if name.startswith("r:1:")]
    entries = sum(fields[name].count("\x1e") for name in buckets)

    assert inside.duplicate is True
    assert inside.message["seq"] == 45
    assert beyond.duplicate is False
    assert beyond.message["seq"] == 301
    assert len(buckets) == 8
    assert 257 <= entries < 301


def ids_in_bucket(bucket, buckets, count):
    """Return ``count`` client ids that the store puts in ``bucket`` of ``buckets``."""
    found = []
    for index in itertools.count():
        client_msg_id = f"id-{index}"
        if zlib.crc32(client_msg_id.encode("utf-8")) % buckets == bucket:
            found.append(client_msg_id)
        if len(found) == count:
            return found


def test_client_id_window_stale_bucket_entry(redis_client, key_prefix):
    # A window of 33 ids spreads them over 2 buckets of 32.
    store = RedisHistoryStore(redis_client, prefix=key_prefix, ttl=TTL, client_id_window=33)
    [old_id] = ids_in_bucket(0, 2, 1)
    store.append(CUSTOMER, AGENT, "old", now=T0, client_msg_id=old_id)
    for index, client_msg_id in enumerate(ids_in_bucket(1, 2, 33)):
        store.append(CUSTOMER, AGENT, f"message {index}", now=T0 + 1 + index, client_msg_id=client_msg_id)

    # Bucket 0 was not written since, so it still has the entry, but 33 newer ids make it too old.
    assert old_id in redis_client.hget(store.pair_key(CUSTOMER, AGENT), "r:1:0")
    reused = store.append(CUSTOMER, AGENT, "reused", now=T0 + 50, client_msg_id=old_id)

    assert reused.duplicate is False
    assert reused.message["seq"] == 35
    assert redis_client.hget(store.pair_key(CUSTOMER, AGENT), "r:1:0") == f"\x1e{old_id}\x1f35\x1f35"


def test_client_id_window_shared_by_stores(redis_client, key_prefix):
    first_worker = RedisHistoryStore(redis_client, prefix=key_prefix, ttl=TTL)
    second_worker = RedisHistoryStore(redis_client, prefix=key_prefix, ttl=TTL)
    stored = [first_worker.append(CUSTOMER, AGENT, "hello", now=T0 + n, client_msg_id=f"w-{n}") for n in range(20)]

    retries = [second_worker.append(CUSTOMER, AGENT, "retry", now=T0 + 50, client_msg_id=f"w-{n}") for n in range(20)]

    assert all(retry.duplicate for retry in retries)
    assert [retry.message for retry in retries] == [stored_message.message for stored_message in stored]


@pytest.mark.parametrize(
    ("first", "second"),
    [("ab", "a"), ("a", "ab"), ("ab", "b"), ("x%d.*[", "x1"), ("1", "11"), ("客服-1", "服-1")],
)
def test_client_id_window_matches_whole_id(small_window_store, first, second):
    store = small_window_store
    store.append(CUSTOMER, AGENT, "first", now=T0, client_msg_id=first)

    other = store.append(CUSTOMER, AGENT, "second", now=T0 + 1, client_msg_id=second)
    retry = store.append(CUSTOMER, AGENT, "retry", now=T0 + 2, client_msg_id=first)

    assert other.duplicate is False
    assert retry.duplicate is True
    assert retry.message["body"] == "first"


@pytest.mark.parametrize("client_msg_id", ["", "a\x1eb", "a\x1fb", "\x1e"])
def test_append_rejects_separator_client_id(store, client_msg_id):
    with pytest.raises(ValueError):
        store.append(CUSTOMER, AGENT, "hello", now=T0, client_msg_id=client_msg_id)

    assert store.last_seq(CUSTOMER, AGENT) == 0


def test_append_rejects_non_str_client_id(store):
    with pytest.raises(TypeError):
        store.append(CUSTOMER, AGENT, "hello", now=T0, client_msg_id=7)


@pytest.mark.parametrize("window", [0, -1, 10001, 2.5, "256", True])
def test_store_rejects_invalid_client_id_window(redis_client, key_prefix, window):
    with pytest.raises(ValueError):
        RedisHistoryStore(redis_client, prefix=key_prefix, ttl=TTL, client_id_window=window)


# -- pairs written with whole JSON and c: fields --------------------------------


def whole_json(message):
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


@pytest.fixture
def whole_json_pair(store, redis_client):
    """A pair hash as the store wrote it with whole JSON values and a c: field per client id.

    Returns the two stored messages: a text with client id "old-1" from the
    customer (side 1) and a started entry.
    """
    text = {
        "seq": 1,
        "type": "text",
        "from": CUSTOMER,
        "to": AGENT,
        "body": "stored before",
        "ts": T0,
        "client_msg_id": "old-1",
    }
    started = {
        "seq": 2,
        "type": "system",
        "from": None,
        "to": None,
        "body": "",
        "ts": T0 + 1,
        "client_msg_id": None,
        "event": "started",
        "conversation": conversation(),
    }
    redis_client.hset(
        store.pair_key(CUSTOMER, AGENT),
        mapping={
            "seq": 2,
            "m:1": whole_json(text),
            "c:1:old-1": 1,
            "m:2": whole_json(started),
            "e:started:conv-1": 2,
        },
    )
    return text, started


def test_whole_json_pair_read_with_new_messages(store, whole_json_pair):
    text, started = whole_json_pair

    new = store.append(AGENT, CUSTOMER, "stored after", now=T0 + 2, client_msg_id="new-1")

    assert new.message["seq"] == 3
    assert store.read(CUSTOMER, AGENT) == [text, started, new.message]
    assert store.read(AGENT, CUSTOMER, before=3, limit=1) == [started]


def test_whole_json_pair_old_client_id_dedupes(store, whole_json_pair):
    text, _ = whole_json_pair

    retry = store.append(CUSTOMER, AGENT, "retry", now=T0 + 5, client_msg_id="old-1")
    other_sender = store.append(AGENT, CUSTOMER, "same id", now=T0 + 6, client_msg_id="old-1")

    assert retry == redis_history.StoredMessage(message=text, duplicate=True)
    assert other_sender.duplicate is False
    assert other_sender.message["seq"] == 3


def test_whole_json_pair_old_id_beyond_window(redis_client, key_prefix, whole_json_pair):
    text, _ = whole_json_pair
    store = RedisHistoryStore(redis_client, prefix=key_prefix, ttl=TTL, client_id_window=2)
    for index in range(3):
        store.append(CUSTOMER, AGENT, f"message {index}", now=T0 + 2 + index, client_msg_id=f"id-{index}")

    retry = store.append(CUSTOMER, AGENT, "retry", now=T0 + 9, client_msg_id="old-1")

    assert retry.duplicate is True
    assert retry.message == text


def test_whole_json_pair_system_entry(store, whole_json_pair):
    _, started = whole_json_pair

    again = store.append_system(CUSTOMER, AGENT, event="started", conversation=conversation(), now=T0 + 9)

    assert store.find_system_entry(AGENT, CUSTOMER, event="started", conversation_id="conv-1") == started
    assert again == started
    assert store.last_seq(CUSTOMER, AGENT) == 2


# -- append: content ------------------------------------------------------------

BODIES = [
    "你好，我想咨询一下订单",
    "emoji 😀👍🏽 and ZWJ 👩‍💻",
    'quotes " and \' and `',
    "back\\slash \\n \\u0041 \\\\",
    "line one\nline two\r\n\ttab",
    '{"seq":99,"type":"system","body":"x"}',
    '"},"seq":5,"x":{"',
    "%d %s .. string.format",
    "",
    "x" * 5000,
]


@pytest.mark.parametrize("body", BODIES)
def test_append_body_round_trip(store, body):
    stored = store.append(CUSTOMER, AGENT, body, now=T0)

    assert stored.message["body"] == body
    assert store.read(CUSTOMER, AGENT)[0]["body"] == body
    assert store.read(CUSTOMER, AGENT)[0]["seq"] == 1


@pytest.mark.parametrize("now", [1733340000.123, 1733340000.123456, 4102444800.001, 1733340000.999])
def test_append_ts_keeps_precision(store, now):
    store.append(CUSTOMER, AGENT, "hello", now=now)

    [message] = store.read(CUSTOMER, AGENT)

    assert message["ts"] == now
    assert round(message["ts"] * 1000) == round(now * 1000)


def test_append_int_ts_stored_as_float(store):
    stored = store.append(CUSTOMER, AGENT, "hello", now=1733340000)

    assert isinstance(stored.message["ts"], float)


# -- append_system --------------------------------------------------------------


def test_append_system_started_shape(store):
    entry = store.append_system(CUSTOMER, AGENT, event="started", conversation=conversation(), now=T0)

    assert entry == {
        "seq": 1,
        "type": "system",
        "from": None,
        "to": None,
        "body": "",
        "ts": T0,
        "client_msg_id": None,
        "event": "started",
        "conversation": conversation(),
    }


def test_append_system_closed_has_reason(store):
    entry = store.append_system(
        CUSTOMER, AGENT, event="closed", conversation=conversation(), now=T0 + 9, reason="timeout"
    )

    assert entry["event"] == "closed"
    assert entry["reason"] == "timeout"
    assert store.read(AGENT, CUSTOMER) == [entry]


def test_append_system_repeat_stores_once(store):
    first = store.append_system(CUSTOMER, AGENT, event="closed", conversation=conversation(), now=T0, reason="customer")
    again = store.append_system(CUSTOMER, AGENT, event="closed", conversation=conversation(), now=T0 + 1, reason="timeout")

    assert again == first
    assert store.last_seq(CUSTOMER, AGENT) == 1


def test_append_system_new_conversation_stored(store):
    store.append_system(CUSTOMER, AGENT, event="started", conversation=conversation("conv-1"), now=T0)
    second = store.append_system(CUSTOMER, AGENT, event="started", conversation=conversation("conv-2"), now=T0 + 1)

    assert second["seq"] == 2


@pytest.mark.parametrize(
    ("event", "conversation_value", "reason"),
    [
        ("opened", conversation(), None),
        ("closed", conversation(), None),
        ("started", conversation(), "customer"),
        ("started", {"customer": CUSTOMER, "agent": AGENT, "started_at": T0}, None),
    ],
)
def test_append_system_rejects_invalid(store, event, conversation_value, reason):
    with pytest.raises(ValueError):
        store.append_system(CUSTOMER, AGENT, event=event, conversation=conversation_value, now=T0, reason=reason)

    assert store.last_seq(CUSTOMER, AGENT) == 0


def test_append_seq_counts_both_directions_and_system(store):
    started = store.append_system(CUSTOMER, AGENT, event="started", conversation=conversation(), now=T0)
    question = store.append(CUSTOMER, AGENT, "question", now=T0 + 1)
    answer = store.append(AGENT, CUSTOMER, "answer", now=T0 + 2)
    closed = store.append_system(CUSTOMER, AGENT, event="closed", conversation=conversation(), now=T0 + 3, reason="agent")

    assert [started["seq"], question.message["seq"], answer.message["seq"], closed["seq"]] == [1, 2, 3, 4]
    assert store.last_seq(CUSTOMER, AGENT) == 4


# -- read -----------------------------------------------------------------------


def test_read_oldest_first(store):
    append_many(store, 5)

    messages = store.read(AGENT, CUSTOMER)

    assert seqs(messages) == [1, 2, 3, 4, 5]
    assert [message["body"] for message in messages] == [f"message {n}" for n in range(1, 6)]


def test_read_empty_pair(store):
    assert store.read(CUSTOMER, AGENT) == []


def test_last_seq_empty_pair(store):
    assert store.last_seq(CUSTOMER, AGENT) == 0


def test_read_before_one_is_empty(store):
    append_many(store, 3)

    assert store.read(CUSTOMER, AGENT, before=1) == []


@pytest.mark.parametrize("before", [0, -5])
def test_read_before_below_one_is_empty(store, before):
    append_many(store, 3)

    assert store.read(CUSTOMER, AGENT, before=before) == []


def test_read_before_and_limit(store):
    append_many(store, 5)

    assert seqs(store.read(CUSTOMER, AGENT, before=4, limit=2)) == [2, 3]


def test_read_before_past_last(store):
    append_many(store, 5)

    assert seqs(store.read(CUSTOMER, AGENT, before=100, limit=2)) == [4, 5]


def test_read_limit_larger_than_stored(store):
    append_many(store, 3)

    assert seqs(store.read(CUSTOMER, AGENT, limit=1000)) == [1, 2, 3]


def test_read_limit_one_returns_last(store):
    append_many(store, 3)

    assert seqs(store.read(CUSTOMER, AGENT, limit=1)) == [3]


def test_read_default_limit_fifty(store):
    append_many(store, 55)

    assert seqs(store.read(CUSTOMER, AGENT)) == list(range(6, 56))


@pytest.mark.parametrize("limit", [0, -1, 1001, True, "10", 2.0])
def test_read_rejects_invalid_limit(store, limit):
    with pytest.raises(ValueError):
        store.read(CUSTOMER, AGENT, limit=limit)


@pytest.mark.parametrize("before", ["3", 2.5, False])
def test_read_rejects_invalid_before(store, before):
    with pytest.raises(ValueError):
        store.read(CUSTOMER, AGENT, before=before)


def test_read_order_after_hash_table_conversion(store, redis_client):
    append_many(store, 150, padding=" " + "x" * 80)

    # Past hash-max-listpack-value bytes in a value (64 by default in Redis 7),
    # Redis stores the hash as a hash table, whose HGETALL order is not insertion order.
    assert redis_client.object("encoding", store.pair_key(CUSTOMER, AGENT)) == "hashtable"
    assert seqs(store.read(CUSTOMER, AGENT, limit=1000)) == list(range(1, 151))
    assert seqs(store.read(CUSTOMER, AGENT, before=100, limit=60)) == list(range(40, 100))
    assert store.read(CUSTOMER, AGENT, limit=1)[0]["body"] == "message 150 " + "x" * 80


# -- activity index -------------------------------------------------------------


def test_activity_index_scores_last_ts(store, redis_client):
    store.append(CUSTOMER, AGENT, "hello", now=T0 + 0.5)
    store.append(AGENT, CUSTOMER, "hi", now=T0 + 10.25)

    assert redis_client.zscore(store.activity_key, store.pair_key(CUSTOMER, AGENT)) == T0 + 10.25


def test_activity_index_scores_system_entry(store, redis_client):
    store.append(CUSTOMER, AGENT, "hello", now=T0)
    store.append_system(CUSTOMER, AGENT, event="closed", conversation=conversation(), now=T0 + 30, reason="customer")

    assert redis_client.zscore(store.activity_key, store.pair_key(CUSTOMER, AGENT)) == T0 + 30


def test_activity_index_never_moves_back(store, redis_client):
    store.append(CUSTOMER, AGENT, "later clock", now=T0 + 10)
    store.append(AGENT, CUSTOMER, "earlier clock", now=T0 + 5)

    assert redis_client.zscore(store.activity_key, store.pair_key(CUSTOMER, AGENT)) == T0 + 10


def test_activity_index_trims_expired(redis_client, key_prefix):
    store = RedisHistoryStore(redis_client, prefix=key_prefix, ttl=100)
    store.append("old", AGENT, "hello", now=T0)
    store.append("boundary", AGENT, "hello", now=T0 + 50)

    store.append("new", AGENT, "hello", now=T0 + 150)

    index = redis_client.zrange(store.activity_key, 0, -1)
    assert store.pair_key("old", AGENT) not in index
    assert store.pair_key("boundary", AGENT) in index
    assert store.pair_key("new", AGENT) in index


def test_activity_index_trims_once_per_interval(redis_client, key_prefix):
    store = RedisHistoryStore(redis_client, prefix=key_prefix, ttl=100)
    store.append("old", AGENT, "hello", now=T0)
    store.append("mid", AGENT, "hello", now=T0 + ACTIVITY_TRIM_INTERVAL + 10)

    store.append("soon", AGENT, "hello", now=T0 + 120)
    untrimmed = redis_client.zrange(store.activity_key, 0, -1)
    store.append("later", AGENT, "hello", now=T0 + 2 * ACTIVITY_TRIM_INTERVAL + 10)
    trimmed = redis_client.zrange(store.activity_key, 0, -1)

    assert store.pair_key("old", AGENT) in untrimmed
    assert store.pair_key("old", AGENT) not in trimmed
    assert store.pair_key("mid", AGENT) in trimmed
    assert store.pair_key("later", AGENT) in trimmed


def make_active_pairs(store, scores):
    keys = []
    for index, score in enumerate(scores):
        store.append(f"customer-{index}", AGENT, "hello", now=score)
        keys.append(store.pair_key(f"customer-{index}", AGENT))
    return keys


def test_iter_active_pairs_window(store):
    keys = make_active_pairs(store, [T0 + n for n in range(1, 8)])

    assert list(store.iter_active_pairs(T0 + 2, T0 + 6)) == keys[1:6]


def test_iter_active_pairs_empty_window(store):
    make_active_pairs(store, [T0 + n for n in range(1, 8)])

    assert list(store.iter_active_pairs(T0 + 100, T0 + 200)) == []


def test_iter_active_pairs_batches(store, redis_client, monkeypatch):
    keys = make_active_pairs(store, [T0 + n for n in range(1, 8)])
    page_sizes = []
    real_zrangebyscore = redis_client.zrangebyscore

    def recording_zrangebyscore(*args, **kwargs):
        page = real_zrangebyscore(*args, **kwargs)
        page_sizes.append((kwargs["num"], len(page)))
        return page

    monkeypatch.setattr(redis_client, "zrangebyscore", recording_zrangebyscore)

    assert list(store.iter_active_pairs(T0, T0 + 10, batch=3)) == keys
    assert page_sizes == [(3, 3), (3, 3), (3, 1)]


@pytest.mark.parametrize("batch", [1, 2, 3, 7, 8])
def test_iter_active_pairs_equal_scores(store, batch):
    keys = make_active_pairs(store, [T0 + 1] * 5 + [T0 + 2] * 2)

    yielded = list(store.iter_active_pairs(T0, T0 + 10, batch=batch))

    assert sorted(yielded) == sorted(keys)
    assert len(yielded) == len(keys)


@pytest.mark.parametrize("batch", [0, -1, True, 2.5])
def test_iter_active_pairs_rejects_invalid_batch(store, batch):
    with pytest.raises(ValueError):
        list(store.iter_active_pairs(T0, T0 + 10, batch=batch))


def test_iter_active_pairs_keys_parse(store):
    store.append("客服:1", "😀", "hello", now=T0)

    [key] = store.iter_active_pairs(T0, T0)

    assert store.parse_pair_key(key) == ("客服:1", "😀")


# -- script cache and errors ----------------------------------------------------


def test_append_reloads_missing_script(store):
    # A sha that no server has cached, so EVALSHA fails with NOSCRIPT as it
    # would after a Redis restart. SCRIPT FLUSH would disturb other tests.
    real_sha = store._append_script.sha
    store._append_script.sha = "0" * 40

    stored = store.append(CUSTOMER, AGENT, "hello", now=T0)

    assert stored.message["seq"] == 1
    assert store._append_script.sha == real_sha


@pytest.fixture
def unreachable_redis():
    """A client of a local port where nothing listens, failing fast."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = redis.Redis(
        host="127.0.0.1",
        port=port,
        decode_responses=True,
        socket_connect_timeout=0.5,
        retry=redis.retry.Retry(redis.backoff.NoBackoff(), 0),
    )
    yield client
    client.close()


def test_append_unavailable_when_redis_down(unreachable_redis, key_prefix):
    store = RedisHistoryStore(unreachable_redis, prefix=key_prefix, ttl=TTL)

    with pytest.raises(ImflaskError) as caught:
        store.append(CUSTOMER, AGENT, "hello", now=T0)

    assert caught.value.code == "unavailable"


def test_read_unavailable_when_redis_down(unreachable_redis, key_prefix):
    store = RedisHistoryStore(unreachable_redis, prefix=key_prefix, ttl=TTL)

    with pytest.raises(ImflaskError) as caught:
        store.read(CUSTOMER, AGENT)

    assert caught.value.code == "unavailable"


# -- plugin ---------------------------------------------------------------------


def test_plugin_registers_redis_store():
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.register(redis_history)

    assert manager.hook.imflask_history_stores() == [{"redis": make_redis_history}]


def test_make_redis_history_reads_config(redis_client, key_prefix):
    store = make_redis_history(redis=redis_client, config={"REDIS_PREFIX": key_prefix, "HISTORY_TTL": "120"})

    store.append(CUSTOMER, AGENT, "hello", now=T0)

    assert store.prefix == key_prefix
    assert store.retention == 120
    assert store.pair_key(CUSTOMER, AGENT).startswith(f"{key_prefix}:h:")
    assert 119 <= store.ttl(CUSTOMER, AGENT) <= 120


def test_make_redis_history_defaults(redis_client):
    store = make_redis_history(redis=redis_client, config={})

    assert store.prefix == "im"
    assert store.retention == 2592000
