"""Tests of the stored form of history messages and the rebuilding of M (no Redis needed)."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.redis_history import keys, stored_form

LOW = "agent:1"
HIGH = "cust:1"


def whole_json(message):
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def text_message(seq, sender, recipient, body, client_msg_id=None, ts=1733340000.5):
    return {
        "seq": seq,
        "type": "text",
        "from": sender,
        "to": recipient,
        "body": body,
        "ts": ts,
        "client_msg_id": client_msg_id,
    }


def encode_text(side, message):
    fields = {key: message[key] for key in ("body", "ts", "client_msg_id")}
    return stored_form.encode(stored_form.text_kind(side), fields)


def test_text_from_low_round_trip():
    message = text_message(4, LOW, HIGH, "hello", "a-1")

    stored = encode_text(0, message)

    assert stored == '0,"body":"hello","ts":1733340000.5,"client_msg_id":"a-1"}'
    assert stored_form.decode_message(LOW, HIGH, 4, stored) == message


def test_text_from_high_round_trip():
    message = text_message(5, HIGH, LOW, "你好")

    decoded = stored_form.decode_message(LOW, HIGH, 5, encode_text(1, message))

    assert whole_json(decoded) == whole_json(message)


def test_system_round_trip_keeps_key_order():
    entry = {
        "seq": 9,
        "type": "system",
        "from": None,
        "to": None,
        "body": "",
        "ts": 1733340000.25,
        "client_msg_id": None,
        "event": "rated",
        "conversation": {"id": "7", "customer": HIGH, "agent": LOW, "started_at": 1733340000.0},
        "rating": {"score": 5, "comment": None},
    }
    fields = {key: value for key, value in entry.items() if key not in ("seq", "type", "from", "to")}

    decoded = stored_form.decode_message(LOW, HIGH, 9, stored_form.encode(stored_form.SYSTEM, fields))

    assert whole_json(decoded) == whole_json(entry)


def test_whole_json_form_returned_as_stored():
    message = text_message(3, HIGH, LOW, "stored whole", "c-1")

    assert stored_form.decode_message(LOW, HIGH, 3, whole_json(message)) == message


def test_decode_messages_mixes_forms_and_skips_missing():
    first = text_message(1, HIGH, LOW, "whole")
    second = text_message(2, LOW, HIGH, "short")
    entries = [(1, whole_json(first)), (2, encode_text(0, second)), (3, None)]

    assert stored_form.decode_messages(LOW, HIGH, entries) == [first, second]


def test_decode_messages_empty():
    assert stored_form.decode_messages(LOW, HIGH, []) == []


@pytest.mark.parametrize("stored", ["x,\"body\":\"\"}", "", "2,\"body\":\"\"}"])
def test_decode_rejects_unknown_form(stored):
    with pytest.raises(ValueError):
        stored_form.decode_message(LOW, HIGH, 1, stored)


def test_encode_rejects_nan():
    with pytest.raises(ValueError):
        stored_form.encode(stored_form.SYSTEM, {"body": "", "ts": float("nan")})


uids = st.text(alphabet=st.one_of(st.sampled_from(':"\\{}客😀'), st.characters()), min_size=1, max_size=40)
bodies = st.text(alphabet=st.one_of(st.sampled_from('"\\,}{\n\u2028'), st.characters()), max_size=200)
client_ids = st.none() | st.text(min_size=1, max_size=64).filter(
    lambda text: keys.ENTRY_START not in text and keys.ID_END not in text
)


@given(
    first=uids,
    second=uids,
    body=bodies,
    client_msg_id=client_ids,
    ts=st.floats(allow_nan=False, allow_infinity=False),
    seq=st.integers(min_value=1, max_value=10**12),
    sender_is_low=st.booleans(),
)
def test_text_round_trip_any_content(first, second, body, client_msg_id, ts, seq, sender_is_low):
    low, high = keys.sorted_pair(first, second)
    sender, recipient = (low, high) if sender_is_low else (high, low)
    side = 0 if sender == low else 1
    message = text_message(seq, sender, recipient, body, client_msg_id, ts)

    decoded = stored_form.decode_message(low, high, seq, encode_text(side, message))

    assert whole_json(decoded) == whole_json(message)
