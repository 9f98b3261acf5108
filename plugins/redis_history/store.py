"""The Redis history store: one hash per customer-agent pair.

Each pair hash (see :mod:`plugins.redis_history.keys`) contains:

- ``seq``: the last sequence number given out in the pair, in both
  directions and for system entries alike;
- ``m:<seq>``: the message M with that seq, as compact JSON;
- ``c:<side>:<client_msg_id>`` and ``e:<event>:<conversation id>``: the seq
  stored for a client id or a system event, so a retry stores nothing new.

Every write sets the hash to expire ``ttl`` seconds later. The sorted set
``{prefix}:activity`` scores each pair key by its last message time, for
export and statistics, and loses entries older than ``ttl`` on every write.
"""

import contextlib
import dataclasses
import importlib.resources
import json
import logging

import redis

from imflask.errors import ImflaskError
from plugins.redis_history import keys

logger = logging.getLogger(__name__)

MAX_READ_LIMIT = 1000
SYSTEM_EVENTS = ("started", "closed", "rated")
CONVERSATION_FIELDS = ("id", "customer", "agent", "started_at")

_APPEND_LUA = importlib.resources.files(__package__).joinpath("append.lua").read_text(encoding="utf-8")


@dataclasses.dataclass(frozen=True)
class StoredMessage:
    """A stored message M and whether an earlier call had already stored it."""

    message: dict
    duplicate: bool


def encode_message_tail(fields):
    """Return the compact JSON of ``fields`` with its opening brace replaced by a comma.

    append.lua puts ``{"seq":<n>`` in front, which gives the JSON of the whole
    message. Raises ValueError for NaN or infinite numbers.
    """
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return "," + text[1:]


@contextlib.contextmanager
def storage_errors(operation, key):
    """Raise ImflaskError("unavailable") when Redis cannot be reached or times out."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        logger.warning("History %s failed for %s: %s", operation, key, exc)
        raise ImflaskError("unavailable", f"history {operation} failed: {exc}") from exc


def check_read_window(before, limit):
    """Raise ValueError unless ``before`` is None or an int, and ``limit`` is from 1 to MAX_READ_LIMIT."""
    if before is not None and (isinstance(before, bool) or not isinstance(before, int)):
        raise ValueError(f"before must be an int seq or None, got {before!r}")

    if isinstance(limit, bool) or not isinstance(limit, int):
        raise ValueError(f"limit must be an int, got {limit!r}")
    if not 1 <= limit <= MAX_READ_LIMIT:
        raise ValueError(f"limit must be from 1 to {MAX_READ_LIMIT}, got {limit}")


def check_system_entry(event, conversation, reason, rating=None):
    """Raise ValueError unless the arguments make a valid system entry.

    ``event`` is "started", "closed" or "rated". A closed entry needs a str
    ``reason``, a rated one a ``rating`` dict with an int ``score``, and the
    others take neither. ``conversation`` has the fields of C.
    """
    if event not in SYSTEM_EVENTS:
        raise ValueError(f"event must be one of {SYSTEM_EVENTS}, got {event!r}")

    if event == "closed" and not isinstance(reason, str):
        raise ValueError(f"a closed entry needs a str reason, got {reason!r}")
    if event != "closed" and reason is not None:
        raise ValueError(f"a {event} entry takes no reason, got {reason!r}")

    if event == "rated" and not (isinstance(rating, dict) and isinstance(rating.get("score"), int)):
        raise ValueError(f"a rated entry needs a rating dict with an int score, got {rating!r}")
    if event != "rated" and rating is not None:
        raise ValueError(f"a {event} entry takes no rating, got {rating!r}")

    missing = [name for name in CONVERSATION_FIELDS if name not in conversation]
    if missing:
        raise ValueError(f"conversation is missing fields: {', '.join(missing)}")


class RedisHistoryStore:
    """Message history of customer-agent pairs, kept ``ttl`` seconds past each pair's last write.

    ``redis`` must be a client created with ``decode_responses=True``. Methods
    raise ImflaskError("unavailable") when Redis cannot be reached.
    """

    def __init__(self, redis, *, prefix="im", ttl=2592000):
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 1:
            raise ValueError(f"ttl must be a positive int of seconds, got {ttl!r}")

        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl
        self._activity_key = keys.activity_key(prefix)
        self._append_script = redis.register_script(_APPEND_LUA)

    @property
    def prefix(self):
        """The prefix of every key this store writes."""
        return self._prefix

    @property
    def retention(self):
        """Seconds a pair hash lives after its last write."""
        return self._ttl

    @property
    def activity_key(self):
        """The key of the sorted set that scores pair keys by last activity."""
        return self._activity_key

    def pair_key(self, a, b):
        """Return the key of the hash shared by ``a`` and ``b`` in either order."""
        return keys.pair_key(self._prefix, a, b)

    def parse_pair_key(self, key):
        """Return the uids ``(low, high)`` of a key made by :meth:`pair_key`."""
        return keys.parse_pair_key(self._prefix, key)

    def append(self, sender, recipient, body, *, now, client_msg_id=None):
        """Store a text message and return it as a StoredMessage.

        A ``client_msg_id`` that the same sender already used in this pair
        stores nothing and returns the first message with ``duplicate=True``.
        ``now`` is the message time in Unix seconds. Raises TypeError for a
        body that is not a str and ValueError for a NaN or infinite ``now``.
        """
        if not isinstance(body, str):
            raise TypeError(f"body must be a str, got {type(body).__name__}")

        sender = keys.normalize_uid(sender)
        recipient = keys.normalize_uid(recipient)
        dedupe_field = ""
        if client_msg_id is not None:
            low, _ = keys.sorted_pair(sender, recipient)
            dedupe_field = keys.client_id_field(0 if sender == low else 1, client_msg_id)

        fields = {
            "type": "text",
            "from": sender,
            "to": recipient,
            "body": body,
            "ts": float(now),
            "client_msg_id": client_msg_id,
        }
        return self._append(self.pair_key(sender, recipient), dedupe_field, fields)

    def append_system(self, customer, agent, *, event, conversation, now, reason=None, rating=None):
        """Store a conversation "started", "closed" or "rated" entry and return it.

        Each (event, conversation id) is stored once, so a repeated call
        returns the first entry. Raises ValueError for an unknown event, a
        missing or unexpected reason or rating, or a conversation without the
        fields of C.
        """
        check_system_entry(event, conversation, reason, rating)

        fields = {
            "type": "system",
            "from": None,
            "to": None,
            "body": "",
            "ts": float(now),
            "client_msg_id": None,
            "event": event,
            "conversation": dict(conversation),
        }
        if reason is not None:
            fields["reason"] = reason
        if rating is not None:
            fields["rating"] = dict(rating)

        dedupe_field = keys.system_event_field(event, conversation["id"])
        return self._append(self.pair_key(customer, agent), dedupe_field, fields).message

    def _append(self, key, dedupe_field, fields):
        """Run append.lua on ``key`` and record the activity at ``fields["ts"]``."""
        tail = encode_message_tail(fields)

        with storage_errors("append", key):
            script_result = self._execute_append(key, [dedupe_field, tail, self._ttl], fields["ts"])

        duplicate, message_json = script_result
        if duplicate:
            logger.debug("Duplicate %s in %s was not stored again", dedupe_field, key)
        return StoredMessage(message=json.loads(message_json), duplicate=bool(duplicate))

    def _execute_append(self, key, script_args, now):
        """Send EVALSHA and the activity index update in one round trip.

        The index is a different key from the pair hash, which in Redis
        Cluster may live on another node, so it is updated beside the script
        instead of inside it. Returns the reply of append.lua.

        After a NOSCRIPT reply only the index commands have run, and running
        them again changes nothing, so the whole pipeline is sent again.
        """
        try:
            return self._append_pipeline(key, script_args, now).execute()[0]
        except redis.exceptions.NoScriptError:
            logger.info("Loading append.lua into Redis, which did not have it cached")
            self._append_script.sha = self._redis.script_load(self._append_script.script)
            return self._append_pipeline(key, script_args, now).execute()[0]

    def _append_pipeline(self, key, script_args, now):
        """Return a pipeline that appends and updates the activity index.

        ZADD GT never moves a score back, so a worker with a slow clock cannot
        hide newer activity.
        """
        pipe = self._redis.pipeline(transaction=False)
        pipe.evalsha(self._append_script.sha, 1, key, *script_args)
        pipe.zadd(self._activity_key, {key: now}, gt=True)
        pipe.zremrangebyscore(self._activity_key, "-inf", f"({now - self._ttl!r}")
        return pipe

    def read(self, a, b, *, before=None, limit=50):
        """Return the latest ``limit`` messages with seq below ``before``, oldest first.

        ``before=None`` reads up to the last message. ``limit`` must be from 1
        to MAX_READ_LIMIT, and ``before`` an int or None, otherwise ValueError
        is raised.
        """
        check_read_window(before, limit)
        key = self.pair_key(a, b)

        with storage_errors("read", key):
            newest = self._last_seq(key)
            if before is not None:
                newest = min(newest, before - 1)
            oldest = max(1, newest - limit + 1)
            if newest < oldest:
                return []
            fields = [keys.message_field(seq) for seq in range(oldest, newest + 1)]
            values = self._redis.hmget(key, fields)

        return [json.loads(value) for value in values if value is not None]

    def find_system_entry(self, a, b, *, event, conversation_id):
        """Return the pair's ``event`` entry of a conversation, or None if it has none."""
        key = self.pair_key(a, b)
        with storage_errors("read", key):
            seq = self._redis.hget(key, keys.system_event_field(event, conversation_id))
            stored = self._redis.hget(key, keys.message_field(int(seq))) if seq else None
        return json.loads(stored) if stored else None

    def last_seq(self, a, b):
        """Return the seq of the last entry stored for the pair, or 0 if none is."""
        key = self.pair_key(a, b)
        with storage_errors("read", key):
            return self._last_seq(key)

    def _last_seq(self, key):
        value = self._redis.hget(key, keys.SEQ_FIELD)
        return int(value) if value is not None else 0

    def ttl(self, a, b):
        """Return the seconds until the pair's history expires, or -2 if it has none."""
        key = self.pair_key(a, b)
        with storage_errors("read", key):
            return self._redis.ttl(key)

    def iter_active_pairs(self, since, until, *, batch=500):
        """Yield pair keys whose last activity time is within [since, until].

        Keys come in order of activity time and are read ``batch`` at a time.
        Each page starts at the last score seen rather than at a running
        offset, so a pair that becomes active again during the iteration may
        be yielded twice.

        NOTE: a write during the iteration that moves or trims a key whose
        score equals the last score of a page can shift the offset within
        that run of equal scores by one key.
        """
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be a positive int, got {batch!r}")

        low, skip = since, 0
        while True:
            with storage_errors("index scan", self._activity_key):
                page = self._redis.zrangebyscore(
                    self._activity_key, low, until, start=skip, num=batch, withscores=True
                )
            for key, _ in page:
                yield key
            if len(page) < batch:
                return

            low, skip = _next_page_start(page, low, skip)


def _next_page_start(page, low, skip):
    """Return the (min score, offset) that continue a ZRANGEBYSCORE after ``page``.

    The offset counts the keys already yielded that share the last score, so
    a run of equal scores longer than one page is still read in full.
    """
    last_score = page[-1][1]
    ties = sum(1 for _, score in page if score == last_score)
    if last_score == low:
        return low, skip + ties
    return last_score, ties
