"""Keyed hashes that stand in for identities, so no table holds an ID number."""
from __future__ import annotations

import base64
import hashlib
import hmac

from chalicelib.domain.documents import Document
from chalicelib.security import keyring


def person_ref(id_number: str) -> str:
    """The person's reference in every table: HMAC-SHA256(pepper, ID number), 128 bits in hex."""
    return hmac.new(keyring.bundle().pepper, id_number.encode(), hashlib.sha256).hexdigest()[:32]


def document_ref(document: Document) -> str:
    """The reference of a person known by any identity document (domain/documents.py): a resident ID's is
    `person_ref` of its number, unchanged; another's is the same keyed hash of its type-qualified number."""
    return person_ref(document.pseudonym_input)


def code_id(ref: str) -> str:
    """The opaque id a QR token names: derived from the reference with its own key.

    88 bits in 15 characters: a collision among a billion holders has odds of about 1 in 600
    million, and every character saved keeps the token within QR version 9 (docs/BENCHMARKS.md).
    """
    digest = hmac.new(keyring.bundle().code_key, ref.encode(), hashlib.sha256).digest()[:11]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def client_secret_hash(secret: str) -> str:
    # Client secrets are 256-bit random strings, so a keyed hash is as strong as a slow KDF
    # and keeps the token endpoint cheap.
    return hmac.new(keyring.bundle().client_key, secret.encode(), hashlib.sha256).hexdigest()


def address_ref(address: str) -> str:
    """What the ratelimits table counts an address under: an IP address is personal data, and TTL may keep a
    counter for days after its window. 96 bits: a collision merges two addresses' counts, which is harmless."""
    return hmac.new(keyring.bundle().pepper, f"address:{address}".encode(), hashlib.sha256).hexdigest()[:24]


def subject_for(province: str, ref: str) -> str:
    """The id one province knows a person by in look-ups and webhooks: stable for that province,
    useless to any other, and not the ID number."""
    digest = hmac.new(keyring.bundle().code_key, f"subject:{province}:{ref}".encode(), hashlib.sha256).digest()[:15]
    return "sub_" + base64.urlsafe_b64encode(digest).decode()


def erasure_ref(ref: str) -> str:
    """What an erasure is recorded under: not the person's reference, so the record links to none of their
    data; who holds the key can still answer "did this person ask for erasure, and when?"."""
    return hmac.new(keyring.bundle().code_key, f"erasure:{ref}".encode(), hashlib.sha256).hexdigest()[:32]
