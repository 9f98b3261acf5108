"""The exception hierarchy and the stable error codes of the protocol.

Every error a client can see carries a ``code`` from :data:`ERROR_CODES`.
The human-readable message is looked up by code in the connection's locale
when the ack is built, so plugins raise errors without a request context.
"""

ERROR_CODES = (
    "auth_required",
    "auth_invalid",
    "invalid_payload",
    "invalid_uid",
    "message_too_large",
    "not_in_conversation",
    "message_rejected",
    "forbidden_role",
    "rate_limited",
    "too_many_connections",
    "no_agents_online",
    "unavailable",
    "internal_error",
)


class ImflaskError(Exception):
    """Base class for errors with a stable protocol code.

    ``params`` fill the placeholders of the translated message, for example
    ``ImflaskError("message_too_large", limit=4096)``.
    """

    def __init__(self, code, detail=None, **params):
        if code not in ERROR_CODES:
            raise ValueError(f"unknown error code {code!r}; known: {', '.join(ERROR_CODES)}")
        super().__init__(detail or code)
        self.code = code
        self.detail = detail
        self.params = params


class ConfigError(Exception):
    """Raised at start-up when the configuration cannot work."""


class UnknownNameError(ConfigError):
    """Raised when a strategy, store or format name is not registered."""

    def __init__(self, kind, name, known):
        known_list = ", ".join(sorted(known)) or "(none)"
        super().__init__(f"unknown {kind} {name!r}; known names: {known_list}")
        self.kind = kind
        self.name = name
        self.known = sorted(known)
