"""The browser origins allowed to use the chat: the server's own and ``IMFLASK_CORS_ORIGINS``."""

from imflask.config import split_names


class OriginPolicy:
    """The origins listed in ``IMFLASK_CORS_ORIGINS`` (``*`` lists every origin).

    Called as ``policy(origin, environ)`` it is the ``cors_allowed_origins``
    check of python-engineio, which then allows the listed origins and the
    server's own origin. A plain list there would shut out the server's own
    pages, such as the agent console, once any origin is listed.
    """

    def __init__(self, setting):
        self.listed = frozenset(split_names(setting))
        self.any = "*" in self.listed

    def lists(self, origin):
        """Return whether ``origin`` is listed, which a page on another origin needs."""
        return bool(origin) and (self.any or origin in self.listed)

    def __call__(self, origin, environ):
        return self.lists(origin) or origin in _own_origins(environ)


def _own_origins(environ):
    """Return the origins this request reached the server under, behind a proxy too."""
    host = environ.get("HTTP_HOST")
    if not host:
        return set()

    scheme = environ.get("wsgi.url_scheme", "http")
    origins = {f"{scheme}://{host}"}
    forwarded_scheme = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
    forwarded_host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
    origins.add(f"{forwarded_scheme}://{forwarded_host}")
    return origins
