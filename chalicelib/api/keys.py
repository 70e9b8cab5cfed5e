"""Public keys for offline verification of our QR tokens, and the signed entry rule set."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import JSON
from chalicelib.api.routes import route
from chalicelib.security import paper_tokens, qr_tokens
from chalicelib.settings import get_settings

bp = Blueprint(__name__)


@route(bp, "/.well-known/jwks.json", methods=["GET"], responds={200: "Jwks"}, tags=["code verification"])
def jwks() -> Response:
    """Public keys for offline verification of our QR tokens and paper codes (kid `pc1`)"""
    keys = qr_tokens.jwks(get_settings().qr_token_ttl)
    return Response(body={"keys": [*keys["keys"], paper_tokens.jwk()]}, status_code=200,
                    headers={"Content-Type": JSON, "Cache-Control": "public, max-age=300"})


@route(bp, "/.well-known/entry-rules.jws", methods=["GET"],
       responds={200: {"application/jose": {"type": "string", "description": "A compact JWS (ES256)"}}},
       tags=["code verification"])
def entry_rules() -> Response:
    """Every checkpoint entry rule version, signed with a key of /.well-known/jwks.json, for offline checkpoints"""
    from chalicelib.services import entry_rules as rules

    return Response(body=rules.signed_rule_set(), status_code=200,
                    headers={"Content-Type": "application/jose", "Cache-Control": "public, max-age=60"})
