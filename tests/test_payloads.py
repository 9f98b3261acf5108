"""Payload readers: each bad input gets the right code and names its field."""

import pytest

from imflask import payloads
from imflask.errors import ImflaskError


def test_require_object_none_is_empty():
    assert payloads.require_object(None) == {}


@pytest.mark.parametrize("value", ["text", 3, [1], True, b"bytes"])
def test_require_object_rejects_non_dict(value):
    with pytest.raises(ImflaskError) as caught:
        payloads.require_object(value)

    assert caught.value.code == "invalid_payload"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (None, "invalid_payload"),
        (5, "invalid_payload"),
        ("", "invalid_payload"),
        ("   \n", "invalid_payload"),
        ("a\x00b", "invalid_payload"),
        ("esc\x1b[31m", "invalid_payload"),
        ("\ud800", "invalid_payload"),
        ("x" * 101, "message_too_large"),
        ("汉" * 34, "message_too_large"),
    ],
)
def test_read_body_rejects(body, code):
    with pytest.raises(ImflaskError) as caught:
        payloads.read_body({"body": body}, max_bytes=100)

    assert caught.value.code == code


@pytest.mark.parametrize("body", ["hi", "line one\nline two\ttabbed", "汉" * 33, "<script>alert(1)</script>", "🙂"])
def test_read_body_accepts(body):
    assert payloads.read_body({"body": body}, max_bytes=100) == body


def test_read_body_too_large_reports_limit():
    with pytest.raises(ImflaskError) as caught:
        payloads.read_body({"body": "x" * 11}, max_bytes=10)

    assert caught.value.params == {"limit": 10}


@pytest.mark.parametrize("value", [0, -1, "5", 1.5, True])
def test_read_positive_int_rejects(value):
    with pytest.raises(ImflaskError) as caught:
        payloads.read_positive_int({"limit": value}, "limit")

    assert caught.value.code == "invalid_payload"


def test_read_positive_int_caps_at_maximum():
    assert payloads.read_positive_int({"limit": 5000}, "limit", maximum=200) == 200


@pytest.mark.parametrize("value", ["", "x" * 65, 12, "tab\tid"])
def test_read_client_msg_id_rejects(value):
    with pytest.raises(ImflaskError) as caught:
        payloads.read_client_msg_id({"client_msg_id": value})

    assert caught.value.code == "invalid_payload"


@pytest.mark.parametrize("value", [None, 1, "true", 0])
def test_read_bool_rejects(value):
    with pytest.raises(ImflaskError) as caught:
        payloads.read_bool({"available": value}, "available")

    assert caught.value.code == "invalid_payload"
