"""Deferred writes: storage failures after a committed change are retried later."""

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from imflask.dispatch.deferred import DeferredWrites
from imflask.errors import ImflaskError


class FlakyAction:
    """Fails with ``error`` for the first ``failures`` calls, then records its arguments."""

    def __init__(self, failures, error):
        self.failures = failures
        self.error = error
        self.calls = []

    def __call__(self, *args):
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        self.calls.append(args)


@pytest.mark.parametrize("error", [RedisConnectionError("down"), ImflaskError("unavailable")])
def test_deferred_keeps_failed_action_until_retry_succeeds(error):
    deferred = DeferredWrites()
    action = FlakyAction(failures=2, error=error)

    deferred.run("test write", action, "c1", 7)
    first = deferred.retry()
    second = deferred.retry()

    assert first == 0
    assert second == 1
    assert action.calls == [("c1", 7)]
    assert len(deferred.pending) == 0


def test_deferred_runs_immediately_when_storage_works():
    deferred = DeferredWrites()
    action = FlakyAction(failures=0, error=None)

    deferred.run("test write", action, "c1")

    assert action.calls == [("c1",)]
    assert len(deferred.pending) == 0


def test_deferred_reraises_protocol_errors():
    deferred = DeferredWrites()
    action = FlakyAction(failures=1, error=ImflaskError("not_in_conversation"))

    with pytest.raises(ImflaskError):
        deferred.run("test write", action)

    assert len(deferred.pending) == 0


def test_deferred_queue_is_bounded():
    deferred = DeferredWrites(limit=3)

    for number in range(5):
        deferred.run("test write", FlakyAction(failures=1, error=RedisConnectionError("down")), number)

    assert [args for _, _, args in deferred.pending] == [(2,), (3,), (4,)]
