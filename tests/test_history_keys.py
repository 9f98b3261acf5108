"""Tests of the pair key naming of the Redis history store (no Redis needed)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.redis_history import keys

PREFIX = "imtest"

TRICKY_UIDS = [
    "a:b",
    ":",
    "::1",
    "客服:007",
    "用户😀",
    "{tag}",
    "a{b}c:d",
    "7",
    "x" * 128,
    "😀" * 128,
    "1:2:3",
    " space ",
    "line\nbreak",
]

# About half the characters come from key syntax (":", "{", digits), so a collision would show.
uids = st.text(
    alphabet=st.one_of(st.sampled_from(":{}1h9😀客"), st.characters()),
    min_size=1,
    max_size=128,
)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("a:b", "c"), ("a", "b:c")),
        (("1:2", "3"), ("1", "2:3")),
        (("1:1", "1:1"), ("1", "1:1:1")),
        (("a", "b:1:c"), ("a:1:b", "c")),
        (("2:a", "b"), ("2", "a:b")),
    ],
)
def test_pair_key_colon_uids_distinct(first, second):
    assert keys.pair_key(PREFIX, *first) != keys.pair_key(PREFIX, *second)


def test_pair_key_order_independent():
    assert keys.pair_key(PREFIX, "customer", "agent") == keys.pair_key(PREFIX, "agent", "customer")


def test_pair_key_int_and_str_same():
    assert keys.pair_key(PREFIX, 7, "agent") == keys.pair_key(PREFIX, "7", "agent")


def test_pair_key_both_int_same():
    assert keys.pair_key(PREFIX, 7, 12) == keys.pair_key(PREFIX, "12", "7")


def test_pair_key_format():
    assert keys.pair_key(PREFIX, "b:1", "a") == "imtest:h:1:a:b:1"


@pytest.mark.parametrize("uid", [True, None, 1.5, b"bytes", ""])
def test_normalize_uid_rejects_invalid(uid):
    with pytest.raises((TypeError, ValueError)):
        keys.normalize_uid(uid)


@pytest.mark.parametrize("low", TRICKY_UIDS)
@pytest.mark.parametrize("high", ["z", "客服:1", "{x}:😀"])
def test_parse_pair_key_round_trip(low, high):
    key = keys.pair_key(PREFIX, low, high)

    assert keys.parse_pair_key(PREFIX, key) == tuple(sorted([low, high]))


@pytest.mark.parametrize(
    "key",
    [
        "other:h:1:a:b",
        "imtest:x:1:a:b",
        "imtest:h:a:b",
        "imtest:h:1:a",
        "imtest:h:1:ab",
        "imtest:h:01:a:b",
        "imtest:h:1:b:a",
        "imtest:h:0::b",
        "imtest:h:9:a:b",
        "imtest:h:١:a:b",
        "imtest:activity",
    ],
)
def test_parse_pair_key_rejects_malformed(key):
    with pytest.raises(ValueError):
        keys.parse_pair_key(PREFIX, key)


@settings(database=None, max_examples=300)
@given(uids, uids, uids, uids)
def test_pair_key_injective_property(a, b, c, d):
    same_pair = sorted([a, b]) == sorted([c, d])

    assert (keys.pair_key(PREFIX, a, b) == keys.pair_key(PREFIX, c, d)) == same_pair


@settings(database=None, max_examples=300)
@given(uids, uids)
def test_parse_pair_key_inverts_property(a, b):
    key = keys.pair_key(PREFIX, a, b)

    assert keys.parse_pair_key(PREFIX, key) == tuple(sorted([a, b]))
