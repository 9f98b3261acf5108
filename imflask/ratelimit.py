"""A token bucket per connection, so one client cannot flood the server."""

import time


class TokenBucket:
    """Allows ``rate`` events per second on average and bursts of ``burst`` events.

    ``rejections`` counts the refusals since the last allowed event, so a
    caller can log the first of a run only. Not thread-safe: each connection owns its bucket and its events are
    handled one at a time.
    """

    def __init__(self, rate, burst, *, clock=time.monotonic):
        self.rate = float(rate)
        self.burst = float(burst)
        self.clock = clock
        self.tokens = self.burst
        self.updated = clock()
        self.rejections = 0

    def consume(self, amount=1.0):
        """Take ``amount`` tokens; return False, taking none, when too few are left."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

        if self.tokens < amount:
            self.rejections += 1
            return False
        self.tokens -= amount
        self.rejections = 0
        return True
