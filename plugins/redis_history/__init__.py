"""The default history store: every message of a customer-agent pair in one Redis hash.

Registered under the name ``redis`` (``IMFLASK_HISTORY=redis``). It reads
``REDIS_PREFIX`` (default ``im``) and ``HISTORY_TTL`` (seconds a pair's
history lives after its last message, default 2,592,000 = 30 days).
"""

from imflask import hookimpl
from plugins.redis_history.store import RedisHistoryStore, StoredMessage

__all__ = ["RedisHistoryStore", "StoredMessage", "imflask_history_stores", "make_redis_history"]

DEFAULT_PREFIX = "im"
DEFAULT_TTL = 2592000


def make_redis_history(*, redis, config):
    """Return a RedisHistoryStore on the ``redis`` client, configured from ``config``.

    ``redis`` must decode responses to str. ``config`` is a mapping of
    unprefixed keys. Raises ValueError when ``HISTORY_TTL`` does not convert
    to a positive int of seconds.
    """
    prefix = config.get("REDIS_PREFIX", DEFAULT_PREFIX)
    ttl = int(config.get("HISTORY_TTL", DEFAULT_TTL))
    return RedisHistoryStore(redis, prefix=prefix, ttl=ttl)


@hookimpl
def imflask_history_stores():
    """Register the Redis history store under the name ``redis``."""
    return {"redis": make_redis_history}
