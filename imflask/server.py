"""The launcher behind ``python wsgi.py``: a tuned eventlet (or gevent) server.

This module and wsgi.py are the only ones that import eventlet or gevent.
The listener is created here because ``socketio.run`` has no hook for
socket options: TCP_NODELAY must be on, or each relayed frame waits for the
peer's delayed ACK.
"""

import logging
import signal
import socket

logger = logging.getLogger(__name__)


def serve(app):
    """Serve ``app`` on ``IMFLASK_HOST``:``IMFLASK_PORT`` until SIGTERM or SIGINT."""
    config = app.config
    host, port = config["HOST"], int(config["PORT"])
    mode = config["ASYNC_MODE"]
    runtime = app.extensions["imflask"]

    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    logger.info(
        "imflask serving on http://%s:%s (async_mode=%s, max_connections=%s)",
        _url_host(host),
        port,
        mode,
        config["MAX_CONNECTIONS"],
    )
    try:
        if mode == "gevent":
            _serve_gevent(app, host, port, int(config["MAX_CONNECTIONS"]))
        else:
            _serve_eventlet(app, host, port, int(config["MAX_CONNECTIONS"]))
    except KeyboardInterrupt:
        pass
    finally:
        _shutdown(runtime)


class NoDelayListener:
    """A listening socket whose accepted connections have TCP_NODELAY set."""

    def __init__(self, sock):
        self._sock = sock

    def accept(self):
        connection, address = self._sock.accept()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def __getattr__(self, name):
        return getattr(self._sock, name)


def _serve_eventlet(app, host, port, max_connections):
    import eventlet
    import eventlet.wsgi

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = eventlet.listen((host, port), family=family, backlog=2048)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    eventlet.wsgi.server(
        NoDelayListener(listener),
        app,
        max_size=max_connections,
        log=logging.getLogger("imflask.access"),
        log_output=False,
    )


def _serve_gevent(app, host, port, max_connections):
    from gevent import pywsgi
    from gevent.pool import Pool
    from geventwebsocket.handler import WebSocketHandler

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind((host, port))
    listener.listen(2048)

    server = pywsgi.WSGIServer(
        listener, app, handler_class=WebSocketHandler, spawn=Pool(max_connections), log=None
    )
    server.serve_forever()


def _shutdown(runtime):
    """Stop the sweep and withdraw this worker's heartbeat so its connections go offline."""
    runtime.sweeper.stop()
    try:
        runtime.presence.stop()
    except Exception as error:
        logger.error("could not withdraw the heartbeat of worker %s: %s", runtime.presence.worker_id, error)
    logger.info("imflask stopped (worker %s)", runtime.presence.worker_id)


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def _url_host(host):
    return f"[{host}]" if ":" in host else host
