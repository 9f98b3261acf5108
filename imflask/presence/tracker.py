"""Redis-backed connection counts, worker heartbeats and offline deadlines."""

import logging
import os
import uuid

logger = logging.getLogger(__name__)

_SCRIPT_DIR = os.path.dirname(__file__)


def _load_script(redis, name):
    with open(os.path.join(_SCRIPT_DIR, name), encoding="utf-8") as handle:
        return redis.register_script(handle.read())


class PresenceTracker:
    """Connection counts per uid over all workers.

    ``heartbeat_ttl`` is the number of seconds after its last heartbeat at
    which a worker counts as dead. Keys share the hash tag ``{presence}``
    so each script runs on one Redis Cluster slot.
    """

    def __init__(self, redis, prefix, *, heartbeat_ttl=15.0, worker_id=None):
        self.redis = redis
        self.worker_id = worker_id or uuid.uuid4().hex
        self.heartbeat_ttl = heartbeat_ttl

        base = f"{prefix}:{{presence}}"
        self.online_key = f"{base}:online"
        self.workers_key = f"{base}:workers"
        self.away_key = f"{base}:away"
        self.offline_keys = {"agent": f"{base}:offline:agent", "customer": f"{base}:offline:customer"}
        self._worker_base = f"{base}:worker:"

        self._connect = _load_script(redis, "connect.lua")
        self._disconnect = _load_script(redis, "disconnect.lua")
        self._reap = _load_script(redis, "reap.lua")

    def connect(self, uid, role):
        """Count a new connection of ``uid``; return its total count."""
        keys = [self.online_key, *self._worker_keys(self.worker_id), self.offline_keys[role]]
        return int(self._connect(keys=keys, args=[uid, role]))

    def disconnect(self, uid, role, *, now):
        """Count a closed connection; return the uid's remaining count.

        When it was the last, the uid is recorded offline since ``now``.
        """
        keys = [self.online_key, *self._worker_keys(self.worker_id), self.offline_keys[role]]
        return int(self._disconnect(keys=keys, args=[uid, repr(now)]))

    def connection_count(self, uid):
        """Return how many live connections ``uid`` has on all workers."""
        return int(self.redis.hget(self.online_key, uid) or 0)

    def heartbeat(self, *, now):
        """Record that this worker is alive at ``now``."""
        self.redis.zadd(self.workers_key, {self.worker_id: now})

    def reap_dead_workers(self, *, now):
        """Remove the counts of workers whose heartbeat stopped; return their ids."""
        deadline = now - self.heartbeat_ttl
        dead = self.redis.zrangebyscore(self.workers_key, "-inf", f"({deadline!r}")
        reaped = []
        for worker_id in dead:
            keys = [
                self.online_key,
                *self._worker_keys(worker_id)[:1],
                self.workers_key,
                self.offline_keys["agent"],
                self.offline_keys["customer"],
                self._worker_keys(worker_id)[1],
            ]
            went_offline = int(self._reap(keys=keys, args=[worker_id, repr(now)]))
            logger.warning("worker %s stopped its heartbeat: %d uids went offline", worker_id, went_offline)
            reaped.append(worker_id)
        return reaped

    def expired(self, role, *, before, limit=500):
        """Return uids of ``role`` offline since before ``before``, oldest first."""
        return self.redis.zrangebyscore(self.offline_keys[role], "-inf", f"({before!r}", start=0, num=limit)

    def claim(self, role, uid):
        """Remove an expired uid from the offline set; return whether this caller won it.

        Of several workers sweeping at once, exactly one gets True.
        """
        return bool(self.redis.zrem(self.offline_keys[role], uid))

    def offline_since(self, role, uid):
        """Return when ``uid`` went offline, or None when it is online or unknown."""
        return self.redis.zscore(self.offline_keys[role], uid)

    def mark_away(self, uid):
        """Remember that ``uid`` was made unavailable because its last connection closed."""
        self.redis.sadd(self.away_key, uid)

    def clear_away(self, uid):
        """Forget the away mark of ``uid``; return whether it was set."""
        return bool(self.redis.srem(self.away_key, uid))

    def stop(self):
        """Withdraw this worker's heartbeat so the sweep reaps its counts at once."""
        self.redis.zadd(self.workers_key, {self.worker_id: 0})

    def _worker_keys(self, worker_id):
        return f"{self._worker_base}{worker_id}:counts", f"{self._worker_base}{worker_id}:roles"
