"""GET /openapi.json. The generator (chalicelib/api/openapi.py) and the response models it documents
are imported by the first request for the document, not by every Lambda that runs this app."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import JSON
from chalicelib.api.routes import route

bp = Blueprint(__name__)


@route(bp, "/openapi.json", methods=["GET"], responds={200: "OpenApiDocument"})
def openapi_document() -> Response:
    """This document"""
    from chalicelib.api import openapi

    return Response(body=openapi.cached(bp.current_app), status_code=200,
                    headers={"Content-Type": JSON, "Cache-Control": "public, max-age=300"})
