"""Entry point: ``python wsgi.py`` serves imflask; ``wsgi:app`` is the WSGI app.

Run as a script, it monkey patches for ``IMFLASK_ASYNC_MODE`` (eventlet
unless set to gevent) before anything else imports the socket module.
Imported by the ``flask`` CLI, it does not patch: Flask is loaded by then,
and the commands need no cooperative sockets. A server such as gunicorn
patches through its own worker class.
"""

import os

ASYNC_MODE = os.environ.get("IMFLASK_ASYNC_MODE", "eventlet")

if __name__ == "__main__":
    if ASYNC_MODE == "gevent":
        from gevent import monkey

        monkey.patch_all()
    else:
        import eventlet

        eventlet.monkey_patch()

import logging  # noqa: E402

from imflask import create_app  # noqa: E402
from imflask.errors import ConfigError  # noqa: E402

if not logging.getLogger().handlers:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

try:
    app = create_app()
except ConfigError as error:
    # A configuration mistake is the operator's to fix: report it in one line, without a traceback.
    raise SystemExit(f"imflask cannot start: {error}") from None

if __name__ == "__main__":
    from imflask.server import serve

    serve(app)
