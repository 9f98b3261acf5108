"""The objects one application instance shares: plugins, Redis, strategy, store, service."""

import logging
import threading

from imflask.autopipeline import CommandBatcher
from imflask.dispatch import ChatService
from imflask.dispatch.sweeper import Sweeper
from imflask.names import DisplayNames
from imflask.pluginmanager import collect_registry, resolve
from imflask.presence import PresenceTracker

logger = logging.getLogger(__name__)


class Runtime:
    """Everything ``create_app`` builds, kept in ``app.extensions["imflask"]``."""

    def __init__(self, *, config, plugin_manager, redis_handle, socketio=None):
        self.config = config
        self.plugin_manager = plugin_manager
        self.hook = plugin_manager.hook
        self.redis_handle = redis_handle
        self.socketio = socketio
        self.redis = redis_handle.client

        self.strategies = collect_registry(self.hook.imflask_allocation_strategies, "allocation strategy")
        self.history_stores = collect_registry(self.hook.imflask_history_stores, "history store")
        self.export_formats = collect_registry(self.hook.imflask_export_formats, "export format")

        strategy_factory = resolve(self.strategies, "allocation strategy", config["ALLOCATION"])
        history_factory = resolve(self.history_stores, "history store", config["HISTORY"])
        self.strategy = strategy_factory(redis=self.redis, config=config)
        self.history = history_factory(redis=self.redis, config=config)
        self.presence = PresenceTracker(
            self.redis, config["REDIS_PREFIX"], heartbeat_ttl=float(config["WORKER_HEARTBEAT_TIMEOUT"])
        )
        self.names = DisplayNames(self.redis, config["REDIS_PREFIX"], ttl=config["HISTORY_TTL"])

        self.service = None
        self.sweeper = None
        self._sweeper_lock = threading.Lock()

    def attach_transport(self, notifier, socketio):
        """Build the chat service once the Socket.IO notifier exists."""
        self.socketio = socketio
        self.service = ChatService(
            strategy=self.strategy,
            history=self.history,
            hook=self.hook,
            notifier=notifier,
            presence=self.presence,
            names=self.names,
            config=self.config,
        )
        self.sweeper = Sweeper(
            self.service,
            grace=float(self.config["RECONNECT_GRACE"]),
            interval=float(self.config["SWEEP_INTERVAL"]),
            sleep=socketio.sleep,
        )

    def start_batching(self, make_event=None, deadline=None):
        """Batch the Redis commands of concurrent requests, unless ``REDIS_AUTOPIPELINE`` is off.

        Only a serving process calls this: its requests run in green
        threads of the Socket.IO server's async mode, which the batcher's
        writer task shares. ``make_event`` and ``deadline`` are passed to
        the :class:`CommandBatcher`.
        """
        if not self.config["REDIS_AUTOPIPELINE"]:
            logger.info("Redis command batching is off: every command has its own round trip")
            return

        batcher = CommandBatcher(
            self.redis.connection_pool,
            self.redis.response_callbacks,
            async_server=self.socketio.server.eio,
            wait_timeout=float(self.config["REDIS_POOL_TIMEOUT"]),
            make_event=make_event,
            deadline=deadline,
        )
        self.redis.attach_batcher(batcher)

    def stop_batching(self):
        """Send the commands still queued, then go back to one round trip per command."""
        batcher = self.redis.detach_batcher()
        if batcher is not None:
            batcher.stop()

    def start_sweeper(self):
        """Start the periodic sweep in a background task, once per process."""
        with self._sweeper_lock:
            if self.sweeper.running:
                return
            self.sweeper.running = True
        self.presence.heartbeat(now=self.service.clock())
        self.socketio.start_background_task(self.sweeper.run_forever)
