"""Redis key and hash field names of the history store.

A pair key names the hash that stores the history of one customer-agent
pair. It is built from the two uids in sorted order, so both directions share
one hash. The key is injective for any uid content, ``:`` included, because
the length of the lower uid comes before the uids:
``{prefix}:h:{len(lo)}:{lo}:{hi}``.
"""

PAIR_TAG = "h"

# append.lua builds the "seq" and "m:<seq>" field names itself, so change both together.
SEQ_FIELD = "seq"

# Separators in a bucket of recent client ids. Each entry is ENTRY_START, the
# client id, ID_END, the seq, ID_END and the entry's number, so a client id
# must contain neither.
ENTRY_START = "\x1e"
ID_END = "\x1f"


def normalize_uid(uid):
    """Return ``uid`` as a non-empty str, converting an int to its decimal string.

    Raises TypeError for any other type (bool included) and ValueError for "".
    """
    if isinstance(uid, bool) or not isinstance(uid, (str, int)):
        raise TypeError(f"uid must be a str or int, got {type(uid).__name__}")

    text = str(uid)
    if not text:
        raise ValueError("uid must not be empty")
    return text


def sorted_pair(a, b):
    """Return the two normalized uids, the lower one (by code point) first."""
    first = normalize_uid(a)
    second = normalize_uid(b)
    if second < first:
        return second, first
    return first, second


def pair_key(prefix, a, b):
    """Return the key of the history hash shared by uids ``a`` and ``b``.

    The argument order does not matter, and 7 and "7" give the same key.
    """
    low, high = sorted_pair(a, b)
    return f"{prefix}:{PAIR_TAG}:{len(low)}:{low}:{high}"


def parse_pair_key(prefix, key):
    """Return the uids ``(low, high)`` that :func:`pair_key` encoded in ``key``.

    Raises ValueError when ``key`` is not a pair key under ``prefix``.
    """
    head = f"{prefix}:{PAIR_TAG}:"
    if not key.startswith(head):
        raise ValueError(f"not a pair key under prefix {prefix!r}: {key!r}")

    length_text, separator, rest = key[len(head):].partition(":")
    if not separator or not length_text.isascii() or not length_text.isdigit():
        raise ValueError(f"pair key has no valid uid length: {key!r}")

    length = int(length_text)
    low, high = rest[:length], rest[length + 1:]
    if not low or not high or pair_key(prefix, low, high) != key:
        raise ValueError(f"not a pair key built by pair_key: {key!r}")
    return low, high


def activity_key(prefix):
    """Return the key of the sorted set that scores pair keys by last activity."""
    return f"{prefix}:activity"


def message_field(seq):
    """Return the hash field that stores the message with sequence number ``seq``."""
    return f"m:{seq}"


def client_id_field(side, client_msg_id):
    """Return the hash field that mapped a sender's client_msg_id to its seq.

    ``side`` is 0 when the sender is the lower uid of the pair and 1 otherwise,
    so the two senders of a pair may reuse the same client id. The store no
    longer writes these fields but still reads them, so that messages stored
    with them are still deduplicated until the pair hash expires.
    """
    return f"c:{side}:{client_msg_id}"


def client_id_counter_field(side):
    """Return the hash field that counts the client ids one sender has stored.

    ``side`` is 0 when the sender is the lower uid of the pair and 1 otherwise.
    """
    return f"r:{side}"


def recent_client_ids_field(side, bucket):
    """Return the hash field with one bucket of a sender's recent client ids and their seqs.

    append.lua describes the value format.
    """
    return f"r:{side}:{bucket}"


def system_event_field(event, conversation_id):
    """Return the hash field that maps a conversation's system event to its seq."""
    return f"e:{event}:{conversation_id}"
