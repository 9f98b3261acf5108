"""Writes that failed after the change they describe was committed, kept to try again.

An allocation script is atomic, but the start entry, the notifications
and the hooks that follow it are separate writes. When Redis fails between
the two, the allocation remains and its announcement waits here until the
sweep succeeds in running it. The history store ignores a repeated system
entry, so running an announcement twice stores it once.
"""

import collections
import logging

from redis.exceptions import RedisError

from imflask.errors import ImflaskError

logger = logging.getLogger(__name__)

MAX_PENDING = 10000


class DeferredWrites:
    """A bounded, process-local queue of actions to retry.

    NOTE: the queue lives in this process only, so a crash before the retry
    loses the announcement; the allocation itself is already in Redis.
    """

    def __init__(self, limit=MAX_PENDING):
        self.pending = collections.deque(maxlen=limit)

    def run(self, description, action, *args):
        """Run ``action(*args)``; if storage fails, keep it for :meth:`retry`."""
        try:
            action(*args)
        except (RedisError, ImflaskError) as error:
            if isinstance(error, ImflaskError) and error.code != "unavailable":
                raise
            logger.error("%s failed: %s; retrying at the next sweep", description, error)
            self.pending.append((description, action, args))

    def retry(self):
        """Run every pending action once; keep those that fail again. Return how many succeeded."""
        done = 0
        for _ in range(len(self.pending)):
            description, action, args = self.pending.popleft()
            try:
                action(*args)
            except (RedisError, ImflaskError) as error:
                logger.error("%s failed again: %s; retrying at the next sweep", description, error)
                self.pending.append((description, action, args))
                continue
            logger.info("%s succeeded on retry", description)
            done += 1
        return done
