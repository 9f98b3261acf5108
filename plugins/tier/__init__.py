"""The default allocation strategy ``tier``: agents in tiers by load, in Redis.

See :mod:`plugins.tier.strategy` for the algorithm.
"""

from imflask import hookimpl

from .strategy import TierStrategy


def make_tier_strategy(*, redis, config):
    """Build the strategy from ``REDIS_PREFIX`` and ``QUEUE_WHEN_NO_AGENTS`` in ``config``.

    ``redis`` is a ``redis.Redis`` that decodes responses to str.
    """
    return TierStrategy(
        redis,
        prefix=config.get("REDIS_PREFIX", "im"),
        queue_when_no_agents=bool(config.get("QUEUE_WHEN_NO_AGENTS", True)),
    )


@hookimpl
def imflask_allocation_strategies():
    """Register the tier strategy under the name ``tier``."""
    return {"tier": make_tier_strategy}
