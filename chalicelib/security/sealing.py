"""Encryption at rest for secrets we must be able to use again (webhook signing secrets).

AES-256-GCM under a key derived from the platform's secret bundle, so a copy of
the table alone does not let anyone forge our webhooks.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

from chalicelib.security import keyring


def _key(purpose: str) -> bytes:
    return hmac.new(keyring.bundle().session_key, f"seal:{purpose}".encode(), hashlib.sha256).digest()


def seal(plaintext: str, purpose: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(_key(purpose)).encrypt(nonce, plaintext.encode(), purpose.encode())
    return base64.b64encode(nonce + sealed).decode()


def unseal(token: str, purpose: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(token)
    return AESGCM(_key(purpose)).decrypt(raw[:12], raw[12:], purpose.encode()).decode()
