"""Automatic pipelining against the real Redis, with threads standing in for green threads."""

import threading

import engineio
import pytest
import redis

from imflask.autopipeline import AutoPipelineRedis, CommandBatcher

WAIT_SECONDS = 10


def make_client(url, *, wait_timeout=WAIT_SECONDS, deadline=None):
    """Return an AutoPipelineRedis with a batcher whose writer is a thread."""
    pool = redis.BlockingConnectionPool.from_url(url, decode_responses=True, max_connections=8, timeout=2)
    client = AutoPipelineRedis(connection_pool=pool)
    async_server = engineio.Server(async_mode="threading")
    batcher = CommandBatcher(
        pool, client.response_callbacks, async_server=async_server, wait_timeout=wait_timeout, deadline=deadline
    )
    client.attach_batcher(batcher)
    return client


class ExpiredDeadline:
    """A deadline that has already passed: it raises its error as the block starts."""

    def __init__(self, seconds, error):
        self.error = error

    def __enter__(self):
        raise self.error

    def __exit__(self, *exc_info):
        return False


class DistantDeadline:
    """A deadline that never passes within a test."""

    def __init__(self, seconds, error):
        self.seconds = seconds

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


@pytest.fixture
def batched(redis_url):
    client = make_client(redis_url)
    yield client
    client.detach_batcher().stop()
    client.connection_pool.disconnect()


def run_concurrently(count, work):
    """Run ``work(index)`` in ``count`` threads that start together, and return the results by index."""
    results = [None] * count
    barrier = threading.Barrier(count)

    def target(index):
        barrier.wait(WAIT_SECONDS)
        try:
            results[index] = work(index)
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=target, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    return results


def test_batcher_concurrent_commands_share_batches(batched, key_prefix):
    key = f"{key_prefix}:counter"

    results = run_concurrently(40, lambda index: (batched.incr(key), batched.hset(f"{key_prefix}:h", index, index)))

    counts = sorted(count for count, _ in results)
    assert counts == list(range(1, 41))
    assert [added for _, added in results] == [1] * 40
    assert batched.hgetall(f"{key_prefix}:h") == {str(index): str(index) for index in range(40)}
    assert batched.batcher.commands == 40 * 2 + 1
    assert batched.batcher.batches < batched.batcher.commands


def test_response_callbacks_apply_per_command(batched, key_prefix):
    key = f"{key_prefix}:z"
    batched.zadd(key, {"a": 1.5, "b": 2})

    assert batched.zrange(key, 0, -1, withscores=True) == [("a", 1.5), ("b", 2.0)]
    assert batched.zrank(key, "b") == 1
    assert batched.exists(key) == 1


def test_batcher_error_reply_fails_one_caller(batched, key_prefix):
    text_key = f"{key_prefix}:text"
    batched.set(text_key, "not a hash")

    def work(index):
        if index % 2:
            return batched.hget(text_key, "field")
        return batched.incr(f"{key_prefix}:ok")

    results = run_concurrently(10, work)

    assert all(isinstance(result, redis.ResponseError) for result in results[1::2])
    assert sorted(results[0::2]) == [1, 2, 3, 4, 5]


def test_batched_pipeline_raises_first_error(batched, key_prefix):
    pipe = batched.pipeline(transaction=False)
    pipe.set(f"{key_prefix}:s", "text")
    pipe.hget(f"{key_prefix}:s", "field")
    pipe.get(f"{key_prefix}:s")
    with pytest.raises(redis.ResponseError, match="Command # 2"):
        pipe.execute()

    pipe.set(f"{key_prefix}:t", "1")
    pipe.incr(f"{key_prefix}:t")
    assert pipe.execute() == [True, 2]
    before = batched.batcher.commands
    assert batched.pipeline(transaction=False).execute() == []
    assert batched.batcher.commands == before


def test_transactions_bypass_the_batcher(batched, key_prefix):
    before = batched.batcher.commands

    with batched.pipeline(transaction=True) as pipe:
        pipe.incr(f"{key_prefix}:x")
        pipe.incr(f"{key_prefix}:x")
        assert pipe.execute() == [1, 2]

    assert batched.batcher.commands == before


def test_scripts_reload_after_a_flush(batched, key_prefix):
    script = batched.register_script("return redis.call('INCR', KEYS[1])")
    assert script(keys=[f"{key_prefix}:n"]) == 1

    batched.script_flush()

    assert script(keys=[f"{key_prefix}:n"]) == 2


def test_batcher_unreachable_redis_fails_all():
    client = make_client("redis://127.0.0.1:1/0")
    try:
        results = run_concurrently(5, lambda index: client.get("k"))
    finally:
        client.detach_batcher().stop()

    assert all(isinstance(result, redis.ConnectionError) for result in results)
    assert len({id(result) for result in results}) == 5


def test_batcher_wait_times_out(redis_url):
    client = make_client(redis_url, wait_timeout=0.2)
    blocker = threading.Event()
    original_send = client.batcher._send
    client.batcher._send = lambda batch: (blocker.wait(WAIT_SECONDS), original_send(batch))

    try:
        with pytest.raises(redis.TimeoutError, match="timed out: no reply within 0.2 s"):
            client.ping()
    finally:
        blocker.set()
        client.detach_batcher().stop()
        client.connection_pool.disconnect()


def test_detached_client_sends_directly(batched, key_prefix):
    batcher = batched.detach_batcher()
    before = batcher.commands

    batched.set(f"{key_prefix}:direct", "1")

    assert batched.get(f"{key_prefix}:direct") == "1"
    assert batcher.commands == before
    batched.attach_batcher(batcher)


def test_batcher_deadline_fails_the_batch(redis_url):
    client = make_client(redis_url, wait_timeout=0.5, deadline=ExpiredDeadline)

    try:
        with pytest.raises(redis.TimeoutError, match="timed out: no reply within 0.5 s"):
            client.ping()
    finally:
        client.detach_batcher().stop()
        client.connection_pool.disconnect()


def test_batcher_deadline_passes_replies(redis_url, key_prefix):
    client = make_client(redis_url, deadline=DistantDeadline)

    try:
        results = run_concurrently(10, lambda index: client.incr(f"{key_prefix}:d"))
    finally:
        client.detach_batcher().stop()
        client.connection_pool.disconnect()

    assert sorted(results) == list(range(1, 11))
