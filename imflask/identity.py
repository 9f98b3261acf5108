"""Identities of authenticated users and the rules for uids."""

from dataclasses import dataclass

from imflask.errors import ImflaskError

# Roles that chat over Socket.IO. A supervisor only reads statistics over HTTP.
CHAT_ROLES = ("customer", "agent")
ROLES = (*CHAT_ROLES, "supervisor")
MAX_UID_LENGTH = 128


@dataclass(frozen=True)
class Identity:
    """An authenticated user: the uid every message of the connection comes from.

    ``capacity`` is the number of customers an agent serves at once; None
    means the configured default. Customers ignore it.
    """

    uid: str
    role: str
    name: str = ""
    capacity: int | None = None

    @property
    def is_agent(self):
        return self.role == "agent"

    def to_dict(self):
        return {"uid": self.uid, "role": self.role, "name": self.name, "capacity": self.capacity}


def normalize_uid(value):
    """Return ``value`` as a uid string, or raise ``invalid_uid``.

    A uid is a non-empty string of at most 128 characters; an int is taken
    as its decimal string. Booleans, floats, empty strings, strings with
    control characters and strings that are not valid UTF-8 (lone
    surrogates) are rejected.
    """
    if isinstance(value, bool):
        raise ImflaskError("invalid_uid", f"uid must be a string, got {value!r}")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise ImflaskError("invalid_uid", f"uid must be a string, got {type(value).__name__}")

    if not value or len(value) > MAX_UID_LENGTH:
        raise ImflaskError("invalid_uid", f"uid length {len(value)} is outside 1..{MAX_UID_LENGTH}")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ImflaskError("invalid_uid", "uid contains a control character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ImflaskError("invalid_uid", "uid is not valid UTF-8 text") from None
    return value
