"""Tokens: minting, verification and every way a token is refused."""

import time

import jwt
import pytest

from imflask.errors import ImflaskError
from imflask.identity import Identity, normalize_uid
from imflask.tokens import decode_token, mint_token

SECRET = "unit-test-secret-" + "x" * 64


def test_mint_token_round_trip():
    token = mint_token(SECRET, "agent:7", "agent", name="李雷", capacity=5)

    identity = decode_token(SECRET, token)

    assert identity == Identity(uid="agent:7", role="agent", name="李雷", capacity=5)


def test_mint_token_int_uid_becomes_string():
    identity = decode_token(SECRET, mint_token(SECRET, 42, "customer"))

    assert identity.uid == "42"


def _encode(claims, secret=SECRET, algorithm="HS256"):
    return jwt.encode(claims, secret, algorithm=algorithm)


def _claims(**overrides):
    claims = {"sub": "u1", "role": "customer", "exp": int(time.time()) + 3600}
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (_encode(_claims(), secret="wrong-secret-that-is-also-long-enough-for-hs256"), "auth_invalid"),
        (_encode(_claims(exp=int(time.time()) - 10)), "auth_invalid"),
        (_encode(_claims(), algorithm="HS512"), "auth_invalid"),
        (_encode(_claims(role=None)), "auth_invalid"),
        (_encode(_claims(exp=None)), "auth_invalid"),
        (_encode(_claims(sub=None)), "auth_invalid"),
        (_encode(_claims(role="admin")), "auth_invalid"),
        (_encode(_claims(capacity=0)), "auth_invalid"),
        (_encode(_claims(capacity="3")), "auth_invalid"),
        (_encode(_claims(sub="")), "invalid_uid"),
        (_encode(_claims(sub="x" * 129)), "invalid_uid"),
        ("not.a.token", "auth_invalid"),
        ("", "auth_invalid"),
    ],
)
def test_decode_token_rejects(token, code):
    with pytest.raises(ImflaskError) as caught:
        decode_token(SECRET, token)

    assert caught.value.code == code


def test_decode_token_rejects_alg_none():
    header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"
    payload = jwt.utils.base64url_encode(
        f'{{"sub":"u1","role":"agent","exp":{int(time.time()) + 60}}}'.encode()
    ).decode()

    with pytest.raises(ImflaskError) as caught:
        decode_token(SECRET, f"{header}.{payload}.")

    assert caught.value.code == "auth_invalid"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("a", "a"), (7, "7"), ("a:b{c}", "a:b{c}"), ("用户", "用户"), ("x" * 128, "x" * 128)],
)
def test_normalize_uid_accepts(value, expected):
    assert normalize_uid(value) == expected


@pytest.mark.parametrize("value", ["", "x" * 129, None, True, 1.5, ["a"], {"a": 1}, "tab\there", "nul\x00"])
def test_normalize_uid_rejects(value):
    with pytest.raises(ImflaskError) as caught:
        normalize_uid(value)

    assert caught.value.code == "invalid_uid"
