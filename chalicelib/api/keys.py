"""Public keys for offline verification of our QR tokens."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.security import qr_tokens
from chalicelib.settings import get_settings

bp = Blueprint(__name__)


@bp.route("/.well-known/jwks.json", methods=["GET"])
def jwks():
    return Response(body=qr_tokens.jwks(get_settings().qr_token_ttl), status_code=200,
                    headers={"Content-Type": "application/json", "Cache-Control": "public, max-age=300"})
