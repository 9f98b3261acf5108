"""Display names of users, remembered from their tokens for their chat peers.

A token's optional ``name`` claim is stored when the user connects, so the
other side of a conversation can show it. Each name is one Redis string
that lives as long as history does (``IMFLASK_HISTORY_TTL``), renewed on
every connection. Names are decoration: when Redis fails, a name is not
stored or not returned, and the chat goes on without it.
"""

import logging

from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class DisplayNames:
    """Names of uids in Redis, one key per uid under ``<prefix>:name:``."""

    def __init__(self, redis, prefix, *, ttl):
        self.redis = redis
        self.base = f"{prefix}:name:"
        self.ttl = int(ttl)

    def remember(self, uid, name):
        """Store ``name`` for ``uid``; an empty name deletes the stored one."""
        try:
            if name:
                self.redis.set(self._key(uid), name, ex=self.ttl)
            else:
                self.redis.delete(self._key(uid))
        except RedisError as error:
            logger.warning("could not store the display name of uid=%s: %s", uid, error)

    def lookup(self, uids):
        """Return ``{uid: name}`` for those of ``uids`` that have a name."""
        uids = list(dict.fromkeys(uids))
        if not uids:
            return {}
        # One GET per key in a pipeline, because the keys may sit on different cluster slots.
        pipe = self.redis.pipeline(transaction=False)
        for uid in uids:
            pipe.get(self._key(uid))
        try:
            names = pipe.execute()
        except RedisError as error:
            logger.warning("could not read the display names of %d uids: %s", len(uids), error)
            return {}
        return {uid: name for uid, name in zip(uids, names) if name}

    def _key(self, uid):
        return self.base + uid
