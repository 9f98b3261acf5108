"""WSGI middleware applied by the application factory."""


class NoWebSocketCompression:
    """Hide the client's WebSocket extension offers, so no frame is compressed.

    eventlet accepts permessage-deflate whenever a browser offers it and then
    compresses every frame, which costs CPU per message and memory per
    connection. ``IMFLASK_WEBSOCKET_DEFLATE=true`` leaves the offer in place.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return self.wsgi_app(environ, start_response)
