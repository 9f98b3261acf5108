"""Turn storage failures into the protocol's ``unavailable`` error."""

import functools
import logging
import time

from redis.exceptions import RedisError

from imflask.errors import ImflaskError

logger = logging.getLogger(__name__)


class RepeatLimiter:
    """Allows one log line per ``interval`` seconds and counts the lines held back.

    During a Redis outage every request fails the same way; one line per
    interval with a count keeps the log readable.
    """

    def __init__(self, interval=5.0, clock=time.monotonic):
        self.interval = interval
        self.clock = clock
        self.last = None
        self.suppressed = 0

    def allow(self):
        """Return ``(allowed, suppressed)``: whether to log now, and how many lines were skipped since."""
        now = self.clock()
        if self.last is not None and now - self.last < self.interval:
            self.suppressed += 1
            return False, 0

        suppressed, self.suppressed, self.last = self.suppressed, 0, now
        return True, suppressed


_failures = RepeatLimiter()


def storage_guard(method):
    """Re-raise a Redis failure inside ``method`` as ``unavailable``, logging at most one line per interval."""

    @functools.wraps(method)
    def guarded(self, identity, *args, **kwargs):
        try:
            return method(self, identity, *args, **kwargs)
        except RedisError as error:
            allowed, suppressed = _failures.allow()
            if allowed:
                logger.error(
                    "storage failed during %s for uid=%s: %s; the client receives unavailable and may retry "
                    "(%d similar failures not logged since the last line)",
                    method.__name__,
                    identity.uid,
                    error,
                    suppressed,
                )
            raise ImflaskError("unavailable", str(error)) from error

    return guarded
