"""Sign Jupid Embed tokens with PyJWT (pip install "pyjwt>=2,<3").

The token is a compact JWS, HS256 over the UTF-8 bytes of the secret Jupid
handed over, header {"alg": "HS256", "typ": "JWT"}, claims iss (partner id),
aud ("jupid-embed"), sub, email, name, payload, iat, exp and a unique jti.
Mint a fresh token for every sign-in: Jupid accepts each jti once.
"""

import time
import uuid

import jwt

JUPID_AUDIENCE = "jupid-embed"
DEFAULT_TTL_SECONDS = 300  # Jupid refuses tokens living longer than your partner limit (300 s by default)


def mint_embed_token(
    *,
    partner_id,
    secret,
    user_id,
    email=None,
    name=None,
    payload=None,
    ttl_seconds=DEFAULT_TTL_SECONDS,
    now=None,
):
    """Return a signed token for one sign-in of the given user."""
    issued_at = int(now if now is not None else time.time())  # whole seconds, not milliseconds
    claims = {
        "iss": partner_id,
        "aud": JUPID_AUDIENCE,
        "sub": str(user_id),  # your stable id for the user, never an email that can change hands
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    if email:
        claims["email"] = email
    if name:
        claims["name"] = name
    if payload:
        claims["payload"] = payload  # a JSON object, at most 4 KB
    return jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})
