"""Validation of client payloads: types, required fields and sizes.

Each reader returns a clean Python value or raises :class:`ImflaskError`
with ``invalid_payload`` (or a more precise code) and a detail naming the
field.
"""

import re

from imflask.errors import ImflaskError
from imflask.identity import normalize_uid

MAX_CLIENT_MSG_ID_LENGTH = 64
MAX_HISTORY_LIMIT = 200
MAX_COMMENT_LENGTH = 500
MAX_CONVERSATION_ID_LENGTH = 64
# C0 controls and DEL, except tab, line feed and carriage return.
_FORBIDDEN_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def require_object(payload):
    """Return ``payload`` as a dict; a missing payload counts as ``{}``."""
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise _invalid(f"the payload must be an object, got {type(payload).__name__}")
    return payload


def read_uid(payload, field):
    """Return the uid in ``payload[field]``; a missing field is ``invalid_payload``."""
    if field not in payload:
        raise _invalid(f"{field!r} is missing")
    return normalize_uid(payload[field])


def read_body(payload, max_bytes):
    """Return the message text: a non-blank string of at most ``max_bytes`` UTF-8 bytes."""
    body = payload.get("body")
    if not isinstance(body, str):
        raise _invalid("'body' must be a string")

    if not _is_utf8(body):
        raise _invalid("'body' is not valid UTF-8 text")
    size = len(body.encode("utf-8"))
    if size > max_bytes:
        raise ImflaskError("message_too_large", f"body has {size} bytes", limit=max_bytes)

    if not body.strip():
        raise _invalid("'body' is empty")
    if _FORBIDDEN_CONTROL.search(body):
        raise _invalid("'body' contains a control character")
    return body


def read_client_msg_id(payload):
    """Return the optional client message id, a string of 1 to 64 printable characters."""
    value = payload.get("client_msg_id")
    if value is None:
        return None

    valid = isinstance(value, str) and 0 < len(value) <= MAX_CLIENT_MSG_ID_LENGTH
    if not valid or not value.isprintable():
        raise _invalid(f"'client_msg_id' must be 1 to {MAX_CLIENT_MSG_ID_LENGTH} printable characters")
    return value


def read_positive_int(payload, field, maximum=None):
    """Return an optional positive int field, capped at ``maximum``."""
    value = payload.get(field)
    if value is None:
        return None

    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _invalid(f"{field!r} must be a positive integer")
    return min(value, maximum) if maximum else value


def read_seq(payload):
    """Return the required ``seq`` field, a positive integer."""
    if payload.get("seq") is None:
        raise _invalid("'seq' is missing")
    return read_positive_int(payload, "seq")


def read_score(payload):
    """Return the required satisfaction score, an int from 1 to 5."""
    score = payload.get("score")
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise _invalid("'score' must be an integer from 1 to 5")
    return score


def read_comment(payload):
    """Return the optional rating comment, stripped, or None when blank."""
    comment = payload.get("comment")
    if comment is None:
        return None

    if not isinstance(comment, str) or len(comment) > MAX_COMMENT_LENGTH:
        raise _invalid(f"'comment' must be a string of at most {MAX_COMMENT_LENGTH} characters")
    if _FORBIDDEN_CONTROL.search(comment) or not _is_utf8(comment):
        raise _invalid("'comment' contains a control character or invalid text")
    return comment.strip() or None


def read_conversation_id(payload):
    """Return the required conversation id, a string of 1 to 64 printable characters."""
    value = payload.get("conversation")
    valid = isinstance(value, str) and 0 < len(value) <= MAX_CONVERSATION_ID_LENGTH
    if not valid or not value.isprintable():
        raise _invalid(f"'conversation' must be a conversation id of 1 to {MAX_CONVERSATION_ID_LENGTH} characters")
    return value


def read_bool(payload, field):
    """Return a required boolean field."""
    value = payload.get(field)
    if not isinstance(value, bool):
        raise _invalid(f"{field!r} must be true or false")
    return value


def _is_utf8(text):
    """Return whether ``text`` encodes to UTF-8, which lone surrogates do not."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _invalid(detail):
    return ImflaskError("invalid_payload", detail)
