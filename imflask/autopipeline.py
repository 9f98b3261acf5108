"""Automatic pipelining: Redis commands issued in one event-loop iteration share one round trip.

Under load, many green threads each send a command or a short pipeline and
wait for its reply. Each round trip costs the worker far more CPU (system
calls, a switch to the hub and back, a pooled connection) than Redis spends
on the command. :class:`CommandBatcher` queues what green threads submit,
and one writer task sends everything queued so far as one pipeline and
hands each caller its own replies. While one pipeline is in flight the next
batch gathers, so batches grow with the load and a lone command waits for
no one.

:class:`AutoPipelineRedis` is a redis-py client that sends its single
commands and its non-transaction pipelines through a batcher once one is
attached, and behaves like a plain client before that. Transactions,
WATCH, pipelines with registered scripts and blocking commands bypass the
batcher. Each caller's commands run in order and each caller gets only its
own replies, so callers see the same results as without batching. Commands
of different callers may share a pipeline, which Redis does not run
atomically.
"""

import copy
import logging
import queue

import redis
from redis.client import Pipeline

logger = logging.getLogger(__name__)

# Commands that wait on the server, or change the connection, do not share a pipeline.
DIRECT_COMMANDS = frozenset(
    {
        "BLPOP",
        "BRPOP",
        "BLMOVE",
        "BRPOPLPUSH",
        "BZPOPMIN",
        "BZPOPMAX",
        "BLMPOP",
        "BZMPOP",
        "XREAD",
        "XREADGROUP",
        "WAIT",
        "SELECT",
        "AUTH",
        "CLIENT SETNAME",
        "MONITOR",
        "SUBSCRIBE",
        "PSUBSCRIBE",
        "SHUTDOWN",
    }
)

_STOP = object()


class BatchTimeout(Exception):
    """Raised in the writer task when a batch has had no reply within the wait timeout."""


class _Submission:
    """The commands of one caller, and where the writer task puts their replies."""

    __slots__ = ("commands", "done", "replies", "error")

    def __init__(self, commands, done):
        self.commands = commands
        self.done = done
        self.replies = None
        self.error = None


class CommandBatcher:
    """Sends the commands that callers submit in batches, one pipeline per batch.

    The primitives come from the server's async mode (python-engineio's
    ``create_queue``, ``create_event``, ``start_background_task`` and
    ``sleep``), so the writer is a green thread under eventlet and gevent.
    Their queues raise the standard library's ``queue.Empty``.
    ``wait_timeout`` bounds how long a caller waits for its batch.
    ``make_event``, if given, replaces ``create_event`` for the callers'
    one-shot events: it returns an object with ``set()`` and
    ``wait(timeout)``, which returns False on timeout.

    ``deadline``, if given, is ``deadline(seconds, error)``: a context
    manager that raises ``error`` in the writer task when the block inside
    runs longer than ``seconds``, as ``eventlet.Timeout`` and
    ``gevent.Timeout`` do. The writer then bounds each batch by
    ``wait_timeout`` and callers wait without a timer of their own, which
    saves a timer per command. A caller queued behind a batch that times
    out waits up to twice ``wait_timeout``.
    """

    def __init__(
        self, connection_pool, response_callbacks, *, async_server, wait_timeout, make_event=None, deadline=None
    ):
        self._pool = connection_pool
        self._callbacks = response_callbacks
        self._server = async_server
        self._wait_timeout = wait_timeout
        self._make_event = make_event or async_server.create_event
        self._deadline = deadline
        self._caller_timeout = None if deadline else wait_timeout
        self._queue = async_server.create_queue()
        self._running = False
        self._stopped = None
        self._last_batch_size = 0
        self.batches = 0
        self.commands = 0

    def submit(self, commands):
        """Send ``commands``, a list of ``(args, options)``, and return their replies in order.

        Where Redis returned an error, the reply is the exception instance,
        as in ``Pipeline.execute(raise_on_error=False)``. Raises
        ``redis.ConnectionError`` or ``redis.TimeoutError`` when the batch
        could not be sent. Raises ``redis.TimeoutError`` when no reply came
        within ``wait_timeout`` seconds, and then the commands may still run
        later.
        """
        submission = _Submission(commands, self._make_event())
        self._start()
        self._queue.put(submission)

        if not submission.done.wait(self._caller_timeout):
            raise redis.TimeoutError(f"Redis command batch timed out: no reply within {self._wait_timeout} s")
        if submission.error is not None:
            # Every caller of a failed batch raises its own copy of the error.
            raise copy.copy(submission.error) from submission.error
        return submission.replies

    def stop(self, timeout=5.0):
        """Let the writer task send the batches already queued, and wait up to ``timeout`` s for it to end."""
        if not self._running:
            return
        self._queue.put(_STOP)
        self._stopped.wait(timeout)

    def _start(self):
        if self._running:
            return
        self._running = True
        self._stopped = self._server.create_event()
        self._server.start_background_task(self._write_batches)

    def _write_batches(self):
        logger.info("Redis command batching started")

        while True:
            batch = self._next_batch()
            stop = batch[-1] is _STOP
            if stop:
                batch.pop()
            if batch:
                self._send(batch)
            if stop:
                break

        self._running = False
        logger.info(
            "Redis command batching stopped after %d batches of %d commands", self.batches, self.commands
        )
        self._stopped.set()

    def _next_batch(self):
        """Wait for one submission, then take every submission queued so far.

        Under load (the last batch had several callers), the writer first
        yields once, so that the requests of the current loop iteration can
        queue theirs too. A lone caller does not pay for that extra loop
        iteration.
        """
        batch = [self._queue.get()]
        if self._last_batch_size > 1:
            self._server.sleep(0)

        while batch[-1] is not _STOP:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        self._last_batch_size = len(batch)
        return batch

    def _send(self, batch):
        """Send one batch as one pipeline and wake each caller, also when the pipeline fails."""
        try:
            replies = self._execute(batch)
        except Exception as error:
            # Each caller raises the error again and its own code logs it.
            logger.debug("Redis command batch of %d callers failed: %s", len(batch), error)
            for submission in batch:
                submission.error = error
                submission.done.set()
            return

        start = 0
        for submission in batch:
            end = start + len(submission.commands)
            submission.replies = replies[start:end]
            start = end
            submission.done.set()

    def _execute(self, batch):
        pipe = Pipeline(self._pool, self._callbacks, transaction=False, shard_hint=None)
        for submission in batch:
            for args, options in submission.commands:
                pipe.pipeline_execute_command(*args, **dict(options))

        self.batches += 1
        self.commands += len(pipe)
        if self._deadline is None:
            return pipe.execute(raise_on_error=False)

        # The error is not a redis-py error, so redis-py drops the connection and does not retry.
        expired = BatchTimeout(f"Redis command batch timed out: no reply within {self._wait_timeout} s")
        try:
            with self._deadline(self._wait_timeout, expired):
                return pipe.execute(raise_on_error=False)
        except BatchTimeout as error:
            raise redis.TimeoutError(str(error)) from error


class AutoPipelineRedis(redis.Redis):
    """A redis-py client that batches its commands through a :class:`CommandBatcher` once attached.

    Until :meth:`attach_batcher` is called, and after :meth:`detach_batcher`,
    it is a plain client.
    """

    batcher = None

    def attach_batcher(self, batcher):
        """Send single commands and plain pipelines through ``batcher`` from now on."""
        self.batcher = batcher

    def detach_batcher(self):
        """Go back to one round trip per command, and return the batcher that was attached."""
        batcher, self.batcher = self.batcher, None
        return batcher

    def execute_command(self, *args, **options):
        batcher = self.batcher
        if batcher is None or args[0] in DIRECT_COMMANDS:
            return super().execute_command(*args, **options)

        (reply,) = batcher.submit([(args, options)])
        if isinstance(reply, Exception):
            raise reply
        return reply

    def pipeline(self, transaction=True, shard_hint=None):
        if self.batcher is None or transaction or shard_hint is not None:
            return super().pipeline(transaction, shard_hint)
        return BatchedPipeline(self)


class BatchedPipeline(Pipeline):
    """A non-transaction pipeline whose commands join the client's batch when it executes.

    It falls back to a round trip of its own when it has WATCHed keys, a
    MULTI, or scripts registered with it.
    """

    def __init__(self, client):
        super().__init__(client.connection_pool, client.response_callbacks, False, None)
        self._batcher = client.batcher

    def execute(self, raise_on_error=True):
        stack = self.command_stack
        if not stack or self.scripts or self.watching or self.explicit_transaction:
            return super().execute(raise_on_error)

        try:
            replies = self._batcher.submit(stack)
        finally:
            self.reset()
        if raise_on_error:
            self.raise_first_error(stack, replies)
        return replies
