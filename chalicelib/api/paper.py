"""Paper codes: printed, long-lived codes for people without a phone, and their signed revocation list
(docs/identity.md#paper-codes)."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response
from pydantic import ConfigDict, Field, model_validator

from chalicelib import errors
from chalicelib.api.fields import DocumentNumber, DocumentTypeField, Nationality
from chalicelib.api.http import NO_STORE
from chalicelib.api.routes import Below, PathParameter, route
from chalicelib.domain import limits
from chalicelib.domain.documents import Document, DocumentType
from chalicelib.errors import ValidationFailed
from chalicelib.models import Model
from chalicelib.security.access import Principal, Role
from chalicelib.services import paper_codes

bp = Blueprint(__name__)

NUMBER = PathParameter(paper_codes.NUMBER.pattern, "The paper code's 12-digit number; any other value is `404 "
                                                   "unknown_paper_code`", errors.UNKNOWN_PAPER_CODE, "123456789015")
PRINT_FORMATS = ("svg", "png")


class PaperRequest(Model):
    """A citizen (or a guardian, with X-Acting-For) sends `{}`; a health authority names the resident."""
    model_config = ConfigDict(extra="forbid", strict=True)
    document_type: DocumentTypeField = DocumentType.RESIDENT_ID
    id_number: DocumentNumber | None = Field(default=None, description="Health authorities: the resident's")
    nationality: Nationality = None


@route(bp, "/v1/paper-codes", methods=["POST"], roles=[Role.CITIZEN, Role.HEALTH_AUTHORITY], body=PaperRequest,
       responds={201: "PaperCode"}, acting_for=True, limits=[Below(limits.PAPER_CODES_PER_PERSON)],
       errors=[errors.NO_CODE, errors.CODE_REVOKED, errors.OUTSIDE_PROVINCE, errors.EMERGENCY_ENDED],
       example={})
def issue(caller: Principal, body: PaperRequest) -> dict[str, Any]:
    """Issue a paper code valid 14 days: for myself, a dependant (X-Acting-For), or (health authority) a resident
    of my province"""
    if caller.role is Role.CITIZEN:
        if body.id_number is not None:
            raise ValidationFailed("The request has invalid fields.", [{
                "field": "id_number", "message": "a citizen prints their own code, or a dependant's with "
                                                 "X-Acting-For", "type": "extra_forbidden"}])
        return paper_codes.for_citizen(caller)
    if body.id_number is None:
        raise ValidationFailed("The request has invalid fields.", [{
            "field": "id_number", "message": "a health authority names the resident", "type": "missing"}])
    return paper_codes.for_resident(caller, Document(body.document_type, body.id_number, body.nationality))


@route(bp, "/v1/paper-codes/{number}/revoke", methods=["POST"],
       roles=[Role.CITIZEN, Role.HEALTH_AUTHORITY, Role.NATIONAL_AUTHORITY], responds={200: "PaperCode"},
       acting_for=True, path_parameters={"number": NUMBER}, errors=[errors.PAPER_CODE_REVOKED])
def revoke(caller: Principal, number: str) -> dict[str, Any]:
    """Report a paper code lost: refused online at once, offline once checkpoints fetch the revocation list"""
    return paper_codes.revoke(caller, number)


class PrintQuery(Model):
    model_config = ConfigDict(extra="forbid")
    format: str = Field("svg", json_schema_extra={"enum": list(PRINT_FORMATS)})

    @model_validator(mode="after")
    def _known(self) -> PrintQuery:
        if self.format not in PRINT_FORMATS:
            raise ValidationFailed("format must be svg or png.",
                                   [{"field": "format", "message": "must be svg or png", "type": "enum"}])
        return self


@route(bp, "/v1/paper-codes/{number}/print", methods=["GET"], roles=[Role.CITIZEN], query=PrintQuery,
       responds={200: {"image/svg+xml": {"type": "string"},
                       "image/png": {"type": "string", "contentMediaType": "image/png"}}},
       acting_for=True, path_parameters={"number": NUMBER},
       errors=[errors.BAD_REQUEST, errors.PAPER_CODE_REVOKED])
def print_layout(caller: Principal, number: str, query: PrintQuery) -> Response:
    """The print layout of a paper code, A6 (105 x 148 mm): its QR, masked name, validity and number; `format=png`
    (with `Accept: image/png`) at 300 dpi"""
    from chalicelib.services import paper_print  # drawing is never on another route's path

    paper, token = paper_codes.printed(caller, number)
    image, content_type = paper_print.render(paper, token, query.format)
    return Response(body=image, status_code=200, headers={"Content-Type": content_type, **NO_STORE})


class RevocationQuery(Model):
    model_config = ConfigDict(extra="forbid")
    since: int = Field(default=0, ge=0, le=10**12, description="The `sequence` of the list you hold; 0 for all")


@route(bp, "/.well-known/paper-revocations.jws", methods=["GET"], query=RevocationQuery,
       responds={200: {"application/jose": {"type": "string", "description": "A compact JWS (docs/identity.md)"}}},
       tags=["code verification"])
def revocations(query: RevocationQuery) -> Response:
    """The signed, incremental list of revoked paper codes after sequence `since` (a compact JWS, kid `pc1`)"""
    return Response(body=paper_codes.revocation_list(query.since), status_code=200,
                    headers={"Content-Type": "application/jose", "Cache-Control": "public, max-age=30"})
