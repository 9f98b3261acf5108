"""Default authentication: HS256 JWTs signed with ``IMFLASK_JWT_SECRET``."""

from imflask import hookimpl
from imflask.tokens import decode_token


@hookimpl(trylast=True)
def imflask_authenticate(token, config):
    """Verify the token with the configured secret; see :mod:`imflask.tokens`."""
    return decode_token(config["JWT_SECRET"], token)
