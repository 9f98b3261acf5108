"""The periodic sweep: heartbeats, dead workers, reconnect deadlines, queue drain.

Deadlines live in Redis, so any worker's sweep may act on them, a restart
loses none, and acting twice changes nothing: a uid is handled only by the
worker whose ``claim`` removed it from the offline set.
"""

import logging

from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class Sweeper:
    """Runs one sweep at a time; :meth:`run_forever` repeats it on a timer."""

    def __init__(self, service, *, grace, interval, sleep):
        self.service = service
        self.grace = grace
        self.interval = interval
        self.sleep = sleep
        self.running = False

    def run_forever(self):
        """Sweep every ``interval`` seconds until :meth:`stop` is called."""
        self.running = True
        logger.info("sweeper started: grace=%ss interval=%ss", self.grace, self.interval)
        while self.running:
            try:
                self.sweep_once()
            except RedisError as error:
                logger.error("sweep failed: %s; retrying in %ss", error, self.interval)
            except Exception:
                logger.exception("sweep failed unexpectedly; retrying in %ss", self.interval)
            self.sleep(self.interval)
        logger.info("sweeper stopped")

    def stop(self):
        """Ask :meth:`run_forever` to return after the current sweep."""
        self.running = False

    def sweep_once(self):
        """Do one pass of every periodic duty; return the uids timed out."""
        service = self.service
        now = service.clock()
        presence = service.presence

        presence.heartbeat(now=now)
        service.deferred.retry()
        presence.reap_dead_workers(now=now)

        timed_out = []
        for role in ("agent", "customer"):
            for uid in presence.expired(role, before=now - self.grace):
                if presence.claim(role, uid):
                    self._expire(role, uid)
                    timed_out.append(uid)

        service.drain_queue()
        return timed_out

    def _expire(self, role, uid):
        if role == "agent":
            logger.info("agent %s stayed offline past the grace period", uid)
            self.service.agent_lost(uid)
        else:
            logger.info("customer %s stayed offline past the grace period", uid)
            self.service.customer_timed_out(uid)
