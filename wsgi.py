"""Entry point: ``python wsgi.py`` serves imflask; ``wsgi:app`` is the WSGI app.

Monkey patching must come before anything else imports the socket module,
so it happens here, first, for the async mode that
``IMFLASK_ASYNC_MODE`` names (eventlet unless set to gevent).
"""

import os

ASYNC_MODE = os.environ.get("IMFLASK_ASYNC_MODE", "eventlet")

if ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
else:
    import eventlet

    eventlet.monkey_patch()

import logging  # noqa: E402

from imflask import create_app  # noqa: E402

if not logging.getLogger().handlers:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

app = create_app()

if __name__ == "__main__":
    from imflask.server import serve

    serve(app)
