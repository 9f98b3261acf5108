"""Baseline (a) of bench.relay: a bare python-socketio relay with no storage.

A client connects with ``auth: {"uid": U}`` and joins the room named U.
The ``message`` event ``{"to", "body", "client_msg_id"?}`` is emitted to
the room of ``to`` as ``{"from", "to", "body", "client_msg_id"}`` and
acknowledged with ``{"ok": true}``. GET /healthz returns 200, so a driver
can wait for the server to start. The server listens on 127.0.0.1 only.

Like imflask, the listener has TCP_NODELAY set (Linux copies it to every
accepted socket) and accepts ``--max-connections`` connections.

Run: ``.venv/bin/python -m bench.baseline_bare --port 5100``; stop it with
SIGTERM or Ctrl-C.
"""

import argparse


def build_parser(description):
    """Return the command-line parser that every baseline server shares."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=5100, help="TCP port on 127.0.0.1 (default 5100)")
    parser.add_argument(
        "--async-mode", choices=("eventlet", "gevent"), default="eventlet", help="cooperative server (default eventlet)"
    )
    parser.add_argument(
        "--max-connections", type=int, default=10000, help="concurrent connections accepted (default 10000)"
    )
    return parser


def monkey_patch(async_mode):
    """Patch the standard library for ``async_mode`` before anything imports the socket module."""
    if async_mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    else:
        import eventlet

        eventlet.monkey_patch()


def build_relay(async_mode, store=None):
    """Return the WSGI app of the relay.

    ``store(sender, relayed)``, when given, receives each message dict before
    it is emitted and returns the dict to emit in its place.
    """
    import socketio

    server = socketio.Server(async_mode=async_mode, logger=False, engineio_logger=False)
    uids = {}

    @server.event
    def connect(sid, environ, auth=None):
        uid = auth.get("uid") if isinstance(auth, dict) else None
        if not isinstance(uid, str) or not uid:
            raise socketio.exceptions.ConnectionRefusedError('auth.uid is missing: connect with auth {"uid": "<uid>"}')
        uids[sid] = uid
        server.enter_room(sid, uid)

    @server.event
    def disconnect(sid, *reason):
        uids.pop(sid, None)

    @server.on("message")
    def message(sid, data):
        sender = uids[sid]
        recipient = data["to"]
        relayed = {"from": sender, "to": recipient, "body": data["body"], "client_msg_id": data.get("client_msg_id")}
        if store is not None:
            relayed = store(sender, relayed)
        server.emit("message", relayed, to=recipient)
        return {"ok": True}

    return socketio.WSGIApp(server, _health_app)


def _health_app(environ, start_response):
    if environ.get("PATH_INFO") == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok\n"]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]


def serve(app, options):
    """Serve ``app`` on 127.0.0.1:``options.port`` until the process is stopped."""
    if options.async_mode == "gevent":
        _serve_gevent(app, options.port, options.max_connections)
    else:
        _serve_eventlet(app, options.port, options.max_connections)


def _serve_eventlet(app, port, max_connections):
    import socket

    import eventlet
    import eventlet.wsgi

    listener = eventlet.listen(("127.0.0.1", port), backlog=2048)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    eventlet.wsgi.server(listener, app, max_size=max_connections, log_output=False)


def _serve_gevent(app, port, max_connections):
    import socket

    from gevent import pywsgi
    from gevent.pool import Pool
    from geventwebsocket.handler import WebSocketHandler

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(2048)
    server = pywsgi.WSGIServer(listener, app, handler_class=WebSocketHandler, spawn=Pool(max_connections), log=None)
    server.serve_forever()


def main():
    options = build_parser(__doc__).parse_args()
    monkey_patch(options.async_mode)
    serve(build_relay(options.async_mode), options)


if __name__ == "__main__":
    main()
