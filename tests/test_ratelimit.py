"""The token bucket, driven by a fake clock."""

from imflask.ratelimit import TokenBucket


class FakeClock:
    """A monotonic clock the test advances by hand."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_bucket_allows_burst_then_rejects():
    bucket = TokenBucket(rate=1, burst=3, clock=FakeClock())

    results = [bucket.consume() for _ in range(4)]

    assert results == [True, True, True, False]
    assert bucket.rejections == 1


def test_bucket_refills_at_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=2, clock=clock)
    bucket.consume()
    bucket.consume()

    clock.now += 0.5
    first = bucket.consume()
    second = bucket.consume()

    assert first is True
    assert second is False


def test_bucket_never_exceeds_burst():
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=2, clock=clock)

    clock.now += 60
    results = [bucket.consume() for _ in range(3)]

    assert results == [True, True, False]
    assert bucket.rejections == 1
