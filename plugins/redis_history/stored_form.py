"""The form in which the pair hash stores a message M, and the rebuilding of M from it.

A field ``m:<seq>`` contains one of two forms:

- A kind character, then the compact JSON of M from ``"body"`` on, with a
  leading comma: ``0,"body":"Hi","ts":1764878411.5,"client_msg_id":"c-1"}``.
  The kind stands for the fields before ``body``: ``0`` is a text message
  from the lower uid of the pair to the higher one, ``1`` a text message the
  other way, ``s`` a system entry (``from`` and ``to`` null). The seq is the
  one in the field name, and the two uids are the ones in the pair key.
- The whole compact JSON of M, starting with ``{``. The store wrote this form
  for every message before it wrote the short one, and pairs may still hold it.

M is rebuilt by joining strings, so it keeps the key order and the values
that json.dumps wrote, and a page of messages is decoded with one json.loads.
"""

import json

TEXT_FROM_LOW = "0"
TEXT_FROM_HIGH = "1"
SYSTEM = "s"
_WHOLE_JSON = "{"


def text_kind(side):
    """Return the kind of a text message whose sender is on ``side`` (0 lower uid, 1 higher uid)."""
    return TEXT_FROM_HIGH if side else TEXT_FROM_LOW


def encode(kind, fields):
    """Return the stored form of a message of ``kind`` whose fields from ``body`` on are ``fields``.

    ``fields`` must start with ``body`` and keep the key order of M. Raises
    ValueError for NaN or infinite numbers.
    """
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return kind + "," + text[1:]


def decode_message(low, high, seq, stored):
    """Return the message M stored as ``stored`` in field ``m:<seq>`` of the pair (``low``, ``high``)."""
    return json.loads(_message_json(_heads(low, high), seq, stored))


def decode_messages(low, high, entries):
    """Return the messages M of ``entries``, pairs of (seq, stored form or None), skipping None.

    One json.loads decodes all of them, which is faster than one call per
    message.
    """
    heads = _heads(low, high)
    parts = [_message_json(heads, seq, stored) for seq, stored in entries if stored is not None]
    return json.loads("[" + ",".join(parts) + "]")


def _heads(low, high):
    """Return, by kind, the JSON of M between the seq and ``body``."""
    low_json = json.dumps(low, ensure_ascii=False)
    high_json = json.dumps(high, ensure_ascii=False)
    return {
        TEXT_FROM_LOW: f',"type":"text","from":{low_json},"to":{high_json}',
        TEXT_FROM_HIGH: f',"type":"text","from":{high_json},"to":{low_json}',
        SYSTEM: ',"type":"system","from":null,"to":null',
    }


def _message_json(heads, seq, stored):
    kind = stored[:1]
    if kind == _WHOLE_JSON:
        return stored

    head = heads.get(kind)
    if head is None:
        raise ValueError(f"message {seq} has an unknown stored form starting with {kind!r}")
    return f'{{"seq":{seq}{head}{stored[1:]}'
