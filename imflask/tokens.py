"""JSON Web Tokens: the identity format a host platform hands to its users.

A token is a JWT signed with HS256 and ``IMFLASK_JWT_SECRET`` (by default
``SECRET_KEY``) with the claims ``sub`` (uid), ``role`` (``customer``,
``agent`` or ``supervisor``), ``exp`` and, optionally, ``name`` and
``capacity``. Socket.IO accepts only the first two roles; a supervisor
token opens the statistics page.
"""

import time

import jwt

from imflask.errors import ImflaskError
from imflask.identity import ROLES, Identity, normalize_uid

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "role", "exp")
MAX_CAPACITY = 1000


def mint_token(secret, uid, role, *, name="", capacity=None, ttl=86400, now=None):
    """Return a signed token for ``uid`` valid for ``ttl`` seconds.

    Raises :class:`ImflaskError` (``invalid_uid`` or ``invalid_payload``)
    when the claims would not pass :func:`decode_token`.
    """
    issued = int(now if now is not None else time.time())
    claims = {"sub": normalize_uid(uid), "role": role, "iat": issued, "exp": issued + int(ttl)}
    if name:
        claims["name"] = name
    if capacity is not None:
        claims["capacity"] = capacity

    _identity_from_claims(claims)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(secret, token):
    """Verify ``token`` and return its :class:`Identity`.

    Raises ``auth_invalid`` for a bad signature, an expired token, another
    algorithm or missing claims, and ``invalid_uid`` for a bad ``sub``.
    """
    if not isinstance(token, str) or not token:
        raise ImflaskError("auth_invalid", "token must be a non-empty string")

    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": list(REQUIRED_CLAIMS)}
        )
    except jwt.PyJWTError as error:
        raise ImflaskError("auth_invalid", f"token rejected: {error}") from error

    return _identity_from_claims(claims)


def _identity_from_claims(claims):
    uid = normalize_uid(claims.get("sub"))

    role = claims.get("role")
    if role not in ROLES:
        raise ImflaskError("auth_invalid", f"role must be one of {', '.join(ROLES)}, got {role!r}")

    name = claims.get("name") or ""
    if not isinstance(name, str) or len(name) > 200:
        raise ImflaskError("auth_invalid", "name must be a string of at most 200 characters")

    capacity = claims.get("capacity")
    valid_capacity = isinstance(capacity, int) and not isinstance(capacity, bool)
    if capacity is not None and not (valid_capacity and 1 <= capacity <= MAX_CAPACITY):
        raise ImflaskError("auth_invalid", f"capacity must be an int in 1..{MAX_CAPACITY}")

    return Identity(uid=uid, role=role, name=name, capacity=capacity)
