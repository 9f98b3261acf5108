"""The Redis history store: one hash per customer-agent pair.

Each pair hash (see :mod:`plugins.redis_history.keys`) contains:

- ``seq``: the last sequence number given out in the pair, in both
  directions and for system entries alike;
- ``m:<seq>``: the message M with that seq, in the short form described in
  :mod:`plugins.redis_history.stored_form`, or as the compact JSON of M;
- ``r:<side>`` and ``r:<side>:<bucket>``: the number of client ids that one
  sender has stored, and its latest client ids with their seqs, spread over
  buckets by a hash of the id (side 0 is the lower uid of the pair, 1 the
  higher). A retry among the last ``client_id_window`` ids stores nothing new;
- ``e:<event>:<conversation id>``: the seq of a system event, so a repeated
  event stores nothing new;
- ``c:<side>:<client_msg_id>``: the seq of a client id, one field per
  message. The store no longer writes these fields, but it still reads them.

Every write sets the hash to expire ``ttl`` seconds later. The sorted set
``{prefix}:activity`` scores each pair key by its last message time, for
export and statistics. A write also drops the entries older than ``ttl``,
at most once per ACTIVITY_TRIM_INTERVAL seconds of message time per store
object, because that command costs the worker more than Redis.
"""

import contextlib
import dataclasses
import importlib.resources
import logging
import zlib

import redis

from imflask.errors import ImflaskError
from plugins.redis_history import keys, stored_form

logger = logging.getLogger(__name__)

MAX_READ_LIMIT = 1000
# After a reconnect the widget and the console (session.js) resend only the
# outbox messages that got no ack, so a retry carries one of the sender's latest ids.
DEFAULT_CLIENT_ID_WINDOW = 256
MAX_CLIENT_ID_WINDOW = 10000
# append.lua reads and rewrites the bucket of one client id per message, so
# smaller buckets copy fewer bytes into Lua but need more hash fields.
CLIENT_IDS_PER_BUCKET = 32
ACTIVITY_TRIM_INTERVAL = 60.0
SYSTEM_EVENTS = ("started", "closed", "rated")
CONVERSATION_FIELDS = ("id", "customer", "agent", "started_at")

_APPEND_LUA = importlib.resources.files(__package__).joinpath("append.lua").read_text(encoding="utf-8")


@dataclasses.dataclass(frozen=True)
class StoredMessage:
    """A stored message M and whether an earlier call had already stored it."""

    message: dict
    duplicate: bool


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


def check_client_msg_id(client_msg_id):
    """Raise unless ``client_msg_id`` is None or a non-empty str without the separators of append.lua.

    Raises TypeError for a value that is not a str and ValueError for "" or
    an id with U+001E or U+001F. The protocol allows only printable
    characters, which excludes both.
    """
    if client_msg_id is None:
        return
    if not isinstance(client_msg_id, str):
        raise TypeError(f"client_msg_id must be a str or None, got {type(client_msg_id).__name__}")
    if not client_msg_id:
        raise ValueError("client_msg_id must not be empty")
    if keys.ENTRY_START in client_msg_id or keys.ID_END in client_msg_id:
        raise ValueError(f"client_msg_id must not contain U+001E or U+001F, got {client_msg_id!r}")


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

    A ``client_msg_id`` deduplicates a retry while it is among the last
    ``client_id_window`` client ids that its sender stored in the pair (256
    by default, at most MAX_CLIENT_ID_WINDOW). An older id is stored again
    as a new message. Ids that the store wrote as ``c:`` fields, before it
    kept this window, deduplicate without a bound until the pair hash expires.
    """

    def __init__(self, redis, *, prefix="im", ttl=2592000, client_id_window=DEFAULT_CLIENT_ID_WINDOW):
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 1:
            raise ValueError(f"ttl must be a positive int of seconds, got {ttl!r}")
        window = client_id_window
        if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= MAX_CLIENT_ID_WINDOW:
            raise ValueError(f"client_id_window must be an int from 1 to {MAX_CLIENT_ID_WINDOW}, got {window!r}")

        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl
        self._client_id_window = window
        self._client_id_buckets = -(-window // CLIENT_IDS_PER_BUCKET)
        self._activity_key = keys.activity_key(prefix)
        self._next_activity_trim = float("-inf")
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

        A ``client_msg_id`` that the same sender used in this pair among its
        last ``client_id_window`` ids stores nothing and returns the first
        message with ``duplicate=True``. ``now`` is the message time in Unix
        seconds. Raises TypeError for a body or client id that is not a str,
        and ValueError for a NaN or infinite ``now`` or for a client id that
        is empty or contains U+001E or U+001F.
        """
        if not isinstance(body, str):
            raise TypeError(f"body must be a str, got {type(body).__name__}")
        check_client_msg_id(client_msg_id)

        sender = keys.normalize_uid(sender)
        recipient = keys.normalize_uid(recipient)
        low, high = keys.sorted_pair(sender, recipient)
        side = 0 if sender == low else 1

        fields = {"body": body, "ts": float(now), "client_msg_id": client_msg_id}
        stored = stored_form.encode(stored_form.text_kind(side), fields)
        script_args = [stored, ""]
        if client_msg_id is None:
            script_args += ["", "", "", "", 0]
        else:
            bucket = zlib.crc32(client_msg_id.encode("utf-8")) % self._client_id_buckets
            script_args += [
                client_msg_id,
                keys.client_id_counter_field(side),
                keys.recent_client_ids_field(side, bucket),
                keys.client_id_field(side, client_msg_id),
                self._client_id_window,
            ]
        return self._append(low, high, fields["ts"], script_args)

    def append_system(self, customer, agent, *, event, conversation, now, reason=None, rating=None):
        """Store a conversation "started", "closed" or "rated" entry and return it.

        Each (event, conversation id) is stored once, so a repeated call
        returns the first entry. Raises ValueError for an unknown event, a
        missing or unexpected reason or rating, or a conversation without the
        fields of C.
        """
        check_system_entry(event, conversation, reason, rating)

        fields = {
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

        stored = stored_form.encode(stored_form.SYSTEM, fields)
        event_field = keys.system_event_field(event, conversation["id"])
        script_args = [stored, event_field, "", "", "", "", 0]
        low, high = keys.sorted_pair(customer, agent)
        return self._append(low, high, fields["ts"], script_args).message

    def _append(self, low, high, now, script_args):
        """Run append.lua on the pair hash of ``low`` and ``high`` and record the activity at ``now``.

        ``script_args`` are the arguments of append.lua after the ttl.
        """
        key = keys.pair_key(self._prefix, low, high)
        with storage_errors("append", key):
            script_result = self._execute_append(key, [self._ttl, *script_args], now)

        duplicate, seq, stored = script_result
        if duplicate:
            logger.debug("Duplicate message %s in %s was not stored again", seq, key)
        message = stored_form.decode_message(low, high, seq, stored)
        return StoredMessage(message=message, duplicate=bool(duplicate))

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
        if now >= self._next_activity_trim:
            pipe.zremrangebyscore(self._activity_key, "-inf", f"({now - self._ttl!r}")
            self._next_activity_trim = now + ACTIVITY_TRIM_INTERVAL
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
            seqs = range(oldest, newest + 1)
            values = self._redis.hmget(key, [keys.message_field(seq) for seq in seqs])

        low, high = keys.sorted_pair(a, b)
        return stored_form.decode_messages(low, high, zip(seqs, values))

    def find_system_entry(self, a, b, *, event, conversation_id):
        """Return the pair's ``event`` entry of a conversation, or None if it has none."""
        key = self.pair_key(a, b)
        with storage_errors("read", key):
            seq = self._redis.hget(key, keys.system_event_field(event, conversation_id))
            stored = self._redis.hget(key, keys.message_field(int(seq))) if seq else None
        if not stored:
            return None
        low, high = keys.sorted_pair(a, b)
        return stored_form.decode_message(low, high, int(seq), stored)

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
