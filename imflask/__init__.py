"""imflask: a customer-service chat server.

Plugin authors import the two pluggy markers from here::

    from imflask import hookimpl
"""

import pluggy

PROJECT_NAME = "imflask"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["PROJECT_NAME", "create_app", "hookimpl", "hookspec"]


def create_app(config=None):
    """Build the Flask application; see :func:`imflask.app.create_app`."""
    from imflask.app import create_app as _create_app

    return _create_app(config)
