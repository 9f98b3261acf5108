"""The application factory."""

import logging
import os

from flask import Flask
from flask_socketio import SocketIO

from imflask.cli import build_cli
from imflask.config import load_config, split_names
from imflask.cors import OriginPolicy
from imflask.events import SocketNotifier, register_events
from imflask.i18n import init_babel
from imflask.middleware import NoWebSocketCompression
from imflask.pluginmanager import build_plugin_manager
from imflask.redis_client import connect_redis
from imflask.runtime import Runtime
from imflask.views import register_views

logger = logging.getLogger(__name__)

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config=None):
    """Build a configured imflask application.

    ``config`` overrides values read from the environment; tests use it.
    Raises :class:`imflask.errors.ConfigError` when the configuration
    cannot work, for example an unknown strategy name.
    """
    app = Flask(
        __name__,
        template_folder=os.path.join(PROJECT_ROOT, "templates"),
        instance_path=os.environ.get("IMFLASK_INSTANCE_PATH") or os.path.join(PROJECT_ROOT, "instance"),
    )
    load_config(app, config)
    init_babel(app)

    # Plugins, then the storage they share, then the strategy and store they name.
    plugin_manager = build_plugin_manager(app.config)
    redis_handle = connect_redis(app.config, app.instance_path)
    runtime = Runtime(config=app.config, plugin_manager=plugin_manager, redis_handle=redis_handle)
    app.extensions["imflask"] = runtime

    # The transport: Socket.IO, optionally through a Redis message queue.
    socketio = SocketIO(app, **_socketio_options(app.config))
    runtime.attach_transport(SocketNotifier(socketio), socketio)
    register_events(socketio, app, runtime)

    if not app.config["WEBSOCKET_DEFLATE"]:
        app.wsgi_app = NoWebSocketCompression(app.wsgi_app)

    register_views(app)
    app.cli.add_command(build_cli(plugin_manager))
    return app


def _socketio_options(config):
    origins = split_names(config["CORS_ORIGINS"])
    options = {
        "async_mode": config["ASYNC_MODE"],
        # None lets python-engineio allow the server's own origin only.
        "cors_allowed_origins": OriginPolicy(origins) if origins else None,
        "max_http_buffer_size": int(config["MAX_MESSAGE_BYTES"]) * 4 + 1024,
        "ping_interval": 20,
        "ping_timeout": 20,
        "logger": False,
        "engineio_logger": False,
        # One event at a time per connection: a connection's messages are
        # stored in the order sent, and no green thread is spawned per event.
        "async_handlers": False,
    }
    if config["MESSAGE_QUEUE"]:
        options["message_queue"] = config["MESSAGE_QUEUE"]
        options["channel"] = f"{config['REDIS_PREFIX']}:socketio"
    return options
