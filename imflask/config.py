"""Configuration: defaults, the environment, and the checks made at start-up.

Every option is an environment variable ``IMFLASK_<NAME>`` that lands in
``app.config[NAME]`` through :meth:`flask.Config.from_prefixed_env`, which
parses JSON values, so ``IMFLASK_PORT=5001`` gives the int 5001.
docs/configuration.md is the table of every option.
"""

import logging
import os
import secrets

from imflask.errors import ConfigError

logger = logging.getLogger(__name__)

ENV_PREFIX = "IMFLASK"

DEFAULTS = {
    "HOST": "127.0.0.1",
    "PORT": 5000,
    "DEMO": False,
    "ASYNC_MODE": "eventlet",
    "MAX_CONNECTIONS": 10000,
    "WEBSOCKET_DEFLATE": False,
    "CORS_ORIGINS": "",
    "MESSAGE_QUEUE": None,
    "REDIS_URL": None,
    "REDIS_PREFIX": "im",
    "REDIS_MAX_CONNECTIONS": 64,
    "REDIS_POOL_TIMEOUT": 5.0,
    "REDIS_AUTOPIPELINE": True,
    "ALLOCATION": "tier",
    "HISTORY": "redis",
    "HISTORY_TTL": 2592000,
    "HISTORY_PAGE_SIZE": 50,
    "AGENT_CAPACITY": 3,
    "QUEUE_WHEN_NO_AGENTS": True,
    "RECONNECT_GRACE": 30.0,
    "SWEEP_INTERVAL": 1.0,
    "WORKER_HEARTBEAT_TIMEOUT": 15.0,
    "MAX_MESSAGE_BYTES": 4096,
    "RATE_LIMIT_PER_SECOND": 10.0,
    "RATE_LIMIT_BURST": 30,
    "MAX_CONNECTIONS_PER_UID": 20,
    "JWT_SECRET": None,
    "DEMO_TOKEN_TTL": 86400,
    "SUPERVISOR_SESSION_TTL": 28800,
    "DEFAULT_LOCALE": "zh_CN",
    "PLUGINS": "",
    "DISABLE_PLUGINS": "",
}

SECRET_KEY_FILE = "secret_key"


def load_config(app, overrides=None):
    """Fill ``app.config`` from defaults, the environment, then ``overrides``.

    Raises :class:`ConfigError` when no ``SECRET_KEY`` is set outside debug
    and demo mode.
    """
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env(ENV_PREFIX)
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if overrides:
        app.config.from_mapping(overrides)

    _ensure_secret_key(app)

    if not app.config["JWT_SECRET"]:
        app.config["JWT_SECRET"] = app.config["SECRET_KEY"]


def demo_enabled(app):
    """Return whether the demo login and pages are served."""
    return bool(app.config["DEMO"]) or app.debug


def split_names(value):
    """Split a comma-separated setting into a list of stripped names."""
    if not value:
        return []
    if isinstance(value, (list, tuple)):
        return [str(item).strip() for item in value if str(item).strip()]
    return [item.strip() for item in str(value).split(",") if item.strip()]


def _ensure_secret_key(app):
    if app.config.get("SECRET_KEY"):
        return

    if not demo_enabled(app):
        raise ConfigError(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a "
            "long random string, or set IMFLASK_DEMO=1 to try imflask with a "
            "generated key."
        )

    app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)


def _instance_secret_key(instance_path):
    """Read the demo key kept in the instance folder, creating it once."""
    path = os.path.join(instance_path, SECRET_KEY_FILE)
    os.makedirs(instance_path, exist_ok=True)
    try:
        with open(path, encoding="ascii") as handle:
            key = handle.read().strip()
        if key:
            return key
    except FileNotFoundError:
        pass

    key = secrets.token_hex(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key)
    logger.info("generated a demo SECRET_KEY in %s", path)
    return key
