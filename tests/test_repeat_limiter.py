"""The limiter that keeps repeated storage failures from flooding the log."""

from imflask.dispatch.errors import RepeatLimiter


class FakeClock:
    """A monotonic clock the test advances by hand."""

    def __init__(self):
        self.now = 50.0

    def __call__(self):
        return self.now


def test_limiter_allows_first_line():
    limiter = RepeatLimiter(interval=5, clock=FakeClock())

    assert limiter.allow() == (True, 0)


def test_limiter_counts_lines_within_interval():
    clock = FakeClock()
    limiter = RepeatLimiter(interval=5, clock=clock)
    limiter.allow()

    held = [limiter.allow() for _ in range(3)]
    clock.now += 5
    released = limiter.allow()

    assert held == [(False, 0)] * 3
    assert released == (True, 3)


def test_limiter_resets_count_after_release():
    clock = FakeClock()
    limiter = RepeatLimiter(interval=1, clock=clock)
    limiter.allow()
    limiter.allow()
    clock.now += 1
    limiter.allow()

    clock.now += 1

    assert limiter.allow() == (True, 0)
