"""Turn storage failures into the protocol's ``unavailable`` error."""

import functools
import logging

from redis.exceptions import RedisError

from imflask.errors import ImflaskError

logger = logging.getLogger(__name__)


def storage_guard(method):
    """Re-raise a Redis failure inside ``method`` as ``unavailable``, logging it once."""

    @functools.wraps(method)
    def guarded(self, identity, *args, **kwargs):
        try:
            return method(self, identity, *args, **kwargs)
        except RedisError as error:
            logger.error(
                "storage failed during %s for uid=%s: %s; the client is told to retry",
                method.__name__,
                identity.uid,
                error,
            )
            raise ImflaskError("unavailable", str(error)) from error

    return guarded
