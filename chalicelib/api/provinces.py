"""The trust list: provinces register the public keys of their own code tokens."""
from __future__ import annotations

from typing import Any

import jwt
from chalice import Blueprint, Response
from pydantic import ConfigDict, Field, field_validator

from chalicelib import errors
from chalicelib.api.fields import LocalIdentifier
from chalicelib.api.http import ok
from chalicelib.api.routes import PROVINCE_CODE, route
from chalicelib.errors import NotFound
from chalicelib.models import Model
from chalicelib.security.access import Principal, Role
from chalicelib.services import provinces

bp = Blueprint(__name__)
CURVES = {("EC", "P-256"): "ES256", ("OKP", "Ed25519"): "EdDSA"}
BASE64URL = r"^[A-Za-z0-9_-]+$"


class PublicJwk(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    kid: LocalIdentifier
    kty: str
    crv: str
    # base64url without padding (RFC 7515 §2): PyJWT's decoder would skip other characters and accept them
    x: str = Field(pattern=BASE64URL, max_length=200)
    y: str | None = Field(default=None, pattern=BASE64URL, max_length=200)
    alg: str | None = None
    use: str | None = Field(default=None, pattern=r"^sig$")
    nbf: int | None = Field(default=None, description="not before, epoch seconds")
    exp: int | None = Field(default=None, description="not after, epoch seconds")

    def as_jwk(self) -> dict[str, Any]:
        data = self.model_dump(exclude_none=True)
        data["alg"] = CURVES[(self.kty, self.crv)]
        return data

    @field_validator("crv")
    @classmethod
    def _curve(cls, value: str) -> str:
        if value not in ("P-256", "Ed25519"):
            raise ValueError("keys are EC P-256 (ES256) or OKP Ed25519 (EdDSA)")
        return value


class KeySet(Model):
    model_config = ConfigDict(extra="forbid", strict=True)
    keys: list[PublicJwk] = Field(min_length=1, max_length=20)

    @field_validator("keys")
    @classmethod
    def _usable(cls, keys: list[PublicJwk]) -> list[PublicJwk]:
        for key in keys:
            if (key.kty, key.crv) not in CURVES:
                raise ValueError(f"{key.kid}: kty {key.kty} does not go with crv {key.crv}")
            if key.alg is not None and key.alg != CURVES[(key.kty, key.crv)]:
                raise ValueError(f"{key.kid}: alg must be {CURVES[(key.kty, key.crv)]}")
            if key.nbf is not None and key.exp is not None and key.exp <= key.nbf:
                raise ValueError(f"{key.kid}: exp must be after nbf")
            try:
                jwt.PyJWK({k: v for k, v in key.as_jwk().items() if k not in ("nbf", "exp")})
            except (jwt.exceptions.PyJWTError, ValueError, TypeError):
                # PyJWT's InvalidKeyError (a point off the curve, coordinates of the wrong length, an EC key
                # without y) is a PyJWTError, not a PyJWKError
                raise ValueError(f"{key.kid}: not a valid public key (x and y must be a point on {key.crv})") \
                    from None
        if len({k.kid for k in keys}) != len(keys):
            raise ValueError("kids must be unique")
        return keys


@route(bp, "/v1/provinces/{code}/keys", methods=["PUT"], roles=[Role.PROVINCE], body=KeySet,
       responds={200: "ProvinceKeys"}, errors=[errors.OUTSIDE_PROVINCE, errors.CONCURRENT_UPDATE],
       path_parameters={"code": PROVINCE_CODE})
def register_keys(code: str, caller: Principal, body: KeySet) -> dict[str, Any]:
    """Register my province's public keys (trust list)"""
    return provinces.register_keys(caller, code, [k.as_jwk() for k in body.keys])


@route(bp, "/v1/provinces/{code}/keys", methods=["GET"], responds={200: "ProvinceKeys"},
       path_parameters={"code": PROVINCE_CODE}, tags=["code verification"])
def read_keys(code: str) -> Response:
    """A province's registered public keys (trust list)"""
    found = provinces.keys(code)
    if found is None:
        named = f"Province {code}" if len(code) == 2 else "That province"   # not a 3,000-character echo
        raise NotFound(f"{named} has registered no keys.", code=errors.UNKNOWN_PROVINCE)
    return ok(found, headers={"Cache-Control": "public, max-age=60"})
