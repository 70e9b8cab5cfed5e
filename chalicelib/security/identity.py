"""Who a citizen is: an identity provider's ID token (prod) or a self-assertion (dev/test only)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import jwt

from chalicelib.domain import documents, names
from chalicelib.domain.documents import DocumentType
from chalicelib.errors import Forbidden, Unauthenticated, ValidationFailed
from chalicelib.settings import get_settings

IDP_ALGORITHMS = ["RS256", "ES256"]


@dataclass(frozen=True)
class Identity:
    """A verified person: their name and identity document (the number canonical, as documents.parse left it)."""
    name: str
    id_number: str
    document_type: DocumentType = DocumentType.RESIDENT_ID
    nationality: str | None = None     # a passport's issuing state, ISO 3166-1 alpha-3

    @property
    def document(self) -> documents.Document:
        return documents.Document(self.document_type, self.id_number, self.nationality)


def from_self_assertion(name: str, id_number: str, phone: str,
                        document_type: DocumentType = DocumentType.RESIDENT_ID,
                        nationality: str | None = None) -> Identity:
    if not get_settings().allows_self_assertion:
        raise Forbidden("Self-asserted identities are accepted only on development stages; "
                        "send an identity provider's ID token as `assertion`.", code="self_assertion_disabled")
    return Identity(name=name, id_number=id_number, document_type=document_type, nationality=nationality)


@lru_cache(maxsize=4)
def _idp_keys(jwks_json: str) -> dict[str | None, jwt.PyJWK]:
    return {key.key_id: key for key in jwt.PyJWKSet.from_json(jwks_json).keys}


def from_id_token(assertion: str) -> Identity:
    settings = get_settings()
    if not (settings.idp_jwks and settings.idp_issuer and settings.idp_audience):
        raise Unauthenticated("No identity provider is configured for this stage.", code="idp_not_configured")
    try:
        kid = jwt.get_unverified_header(assertion).get("kid")
        key = _idp_keys(settings.idp_jwks).get(kid)
        if key is None:
            raise Unauthenticated("The ID token is signed by an unknown key.", code="invalid_assertion")
        claims = jwt.decode(assertion, key, algorithms=IDP_ALGORITHMS, audience=settings.idp_audience,
                            issuer=settings.idp_issuer, options={"require": ["exp", "iss", "aud", "sub"]})
    except jwt.exceptions.InvalidTokenError:
        raise Unauthenticated("The ID token is not valid.", code="invalid_assertion") from None
    # `document_type` (docs/identity.md; absent: a resident ID) and, for a passport, `nationality`
    try:
        nationality = claims.get("nationality")
        document = documents.parse(str(claims.get("document_type", DocumentType.RESIDENT_ID.value)),
                                   str(claims.get("id_number", "")),
                                   None if nationality is None else str(nationality))
    except ValueError:   # InvalidDocument, or a document type the platform does not know
        raise Unauthenticated("The ID token carries no valid identity document.", code="invalid_assertion") from None
    name = str(claims.get("name", ""))
    if not names.is_valid_name(name):
        raise ValidationFailed("The ID token carries no valid name.", code="invalid_assertion")
    return Identity(name=name, id_number=document.number, document_type=document.kind,
                    nationality=document.nationality)

