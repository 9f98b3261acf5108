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
    max_connections = int(config["MAX_CONNECTIONS"])

    logger.info(
        "imflask serving on http://%s:%s (async_mode=%s, max_connections=%s)",
        _url_host(host),
        port,
        mode,
        max_connections,
    )
    runtime = app.extensions["imflask"]
    if mode == "gevent":
        import gevent

        runtime.start_batching(deadline=gevent.Timeout)
        _serve_gevent(app, host, port, max_connections)
    else:
        import eventlet

        runtime.start_batching(make_event=_eventlet_event_class(), deadline=eventlet.Timeout)
        _serve_eventlet(app, host, port, max_connections)
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

    listener = eventlet.listen((host, port), family=_family(host), backlog=2048)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # The signal handler only sets a flag that a greenthread polls: raising
    # there would hit whichever greenthread runs, and an event sent from it
    # waits until the hub wakes up for another reason.
    signalled = []
    _on_stop_signal(lambda: signalled.append(True))
    stopping = eventlet.spawn(_wait_for, signalled, eventlet.sleep)

    server = eventlet.spawn(
        eventlet.wsgi.server,
        NoDelayListener(listener),
        app,
        max_size=max_connections,
        log=logging.getLogger("imflask.access"),
        log_output=False,
    )
    stopping.wait()
    server.kill()
    listener.close()


def _eventlet_event_class():
    """Return a one-shot event class on ``eventlet.event.Event`` for the Redis command batcher.

    python-engineio's event for eventlet is the green ``threading.Event``,
    whose condition variable and semaphores cost more per message than
    the wait itself.
    """
    import eventlet.event

    class EventletEvent:
        __slots__ = ("_event",)

        def __init__(self):
            self._event = eventlet.event.Event()

        def set(self):
            self._event.send(True)

        def wait(self, timeout):
            return self._event.wait(timeout) is True

    return EventletEvent


def _serve_gevent(app, host, port, max_connections):
    import gevent
    import gevent.event
    from gevent import pywsgi
    from gevent.pool import Pool
    from geventwebsocket.handler import WebSocketHandler

    listener = socket.socket(_family(host), socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind((host, port))
    listener.listen(2048)

    stopping = gevent.event.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, stopping.set)

    # gevent-websocket logs every request at INFO; keep its warnings only.
    logging.getLogger("geventwebsocket.handler").setLevel(logging.WARNING)
    server = pywsgi.WSGIServer(listener, app, handler_class=WebSocketHandler, spawn=Pool(max_connections), log=None)
    server.start()
    stopping.wait()
    server.stop(timeout=2)


def _wait_for(signalled, sleep, interval=0.1):
    """Return once ``signalled`` is non-empty, checking every ``interval`` seconds."""
    while not signalled:
        sleep(interval)


def _on_stop_signal(callback):
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, frame: callback())


def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _shutdown(runtime):
    """Stop background tasks and withdraw this worker's heartbeat.

    Without the heartbeat, any worker's sweep soon counts this worker's
    connections as closed. Socket.IO's ping task must stop too, because the
    interpreter waits for it before it exits.
    """
    runtime.sweeper.stop()
    runtime.socketio.server.shutdown()
    runtime.stop_batching()
    try:
        runtime.presence.stop()
    except Exception as error:
        logger.error("could not withdraw the heartbeat of worker %s: %s", runtime.presence.worker_id, error)
    runtime.redis_handle.stop_embedded()
    logger.info("imflask stopped (worker %s)", runtime.presence.worker_id)


def _url_host(host):
    return f"[{host}]" if ":" in host else host
