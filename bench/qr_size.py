"""How long a real QR token is and which QR symbol it needs at error correction M (what checkpoints scan),
beside the same facts packed the two other ways health credentials have been put in QR codes:

- EU digital COVID certificate style: a CWT (CBOR claims) in a COSE_Sign1 signed with ES256, zlib-compressed,
  base45-encoded (RFC 9285) and prefixed `HC1:`: alphanumeric QR mode;
- SMART Health Card style: a compact JWS with a raw-DEFLATE payload (`zip: DEF`) and the key's JWK
  thumbprint as `kid`, each character as two digits after `shc:/`: a byte segment and a numeric one.

Each alternative is signed with a fresh P-256 key and verified back, so the sizes are of real,
checkable credentials. The facts are our token's: the opaque code id, the expiry, which key signed.
"""
from __future__ import annotations

import base64
import hashlib
import json
import zlib
from typing import Any

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def base45(data: bytes) -> str:
    """RFC 9285: two bytes become three characters, a last odd byte two."""
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [BASE45[n % 45], BASE45[n // 45 % 45], BASE45[n // 2025]]
    if len(data) % 2:
        out += [BASE45[data[-1] % 45], BASE45[data[-1] // 45]]
    return "".join(out)


assert base45(b"AB") == "BB8" and base45(b"Hello!!") == "%69 VD92EX0" and base45(b"ietf!") == "QED8WEX0"  # RFC 9285


def _capacity(version: int, probe: str) -> int:
    """Most characters like `probe`'s (byte mode) that still fit `version` at level M."""
    import segno

    n = 1
    while True:
        try:
            segno.make_qr(probe * (n + 1), error="m", version=version, boost_error=False)
        except segno.DataOverflowError:
            return n
        n += 1


def _symbol(content: Any) -> dict[str, Any]:
    import segno

    qr = segno.make_qr(content, error="m", boost_error=False)
    width, _ = qr.symbol_size(border=0)
    return {"version": qr.version, "modules": width, "mode": qr.mode or "byte + numeric"}


def _raw_signature(der: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def dcc_style(code_id: str, exp: int, kid: str) -> str:
    """HC1: base45(zlib(COSE_Sign1 over the CWT {sub, exp})), verified back with the public key."""
    import cbor2
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    key = ec.generate_private_key(ec.SECP256R1())
    protected = cbor2.dumps({1: -7, 4: kid.encode()})         # alg ES256, kid
    payload = cbor2.dumps({2: code_id, 4: exp})                # CWT claims: sub, exp
    to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
    signature = _raw_signature(key.sign(to_sign, ec.ECDSA(hashes.SHA256())))
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))
    text = "HC1:" + base45(zlib.compress(cose, 9))

    # verify it back as a checkpoint would
    decoded = cbor2.loads(zlib.decompress(_unbase45(text[4:])))
    p, _, body, sig = decoded.value
    key.public_key().verify(encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
                            cbor2.dumps(["Signature1", p, b"", body]), ec.ECDSA(hashes.SHA256()))
    assert cbor2.loads(body) == {2: code_id, 4: exp}
    return text


def _unbase45(text: str) -> bytes:
    out = bytearray()
    for i in range(0, len(text), 3):
        chunk = [BASE45.index(c) for c in text[i:i + 3]]
        n = sum(v * 45 ** j for j, v in enumerate(chunk))
        out += n.to_bytes(2, "big") if len(chunk) == 3 else bytes([n])
    return bytes(out)


def shc_style(code_id: str, exp: int, issuer: str) -> tuple[str, str]:
    """shc:/ + two digits per character of a `zip: DEF` ES256 JWS; returns (qr text, the JWS)."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    members = json.dumps({k: public[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()
    claims = json.dumps({"iss": issuer, "sub": code_id, "exp": exp}, separators=(",", ":")).encode()
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed = deflate.compress(claims) + deflate.flush()
    token = jwt.api_jws.PyJWS().encode(compressed, key, algorithm="ES256",
                                      headers={"zip": "DEF", "kid": thumbprint})
    # verify it back: the signature, then inflate the payload
    payload = jwt.api_jws.PyJWS().decode(token, key.public_key(), algorithms=["ES256"])
    assert json.loads(zlib.decompress(payload, -15)) == json.loads(claims)
    return "shc:/" + "".join(f"{ord(c) - 45:02d}" for c in token), token


def run(tokens: list[str]) -> dict[str, Any]:
    import jwt
    from segno import consts

    from chalicelib.services import qr_images
    from chalicelib.settings import get_settings

    token = tokens[0]
    qr = qr_images.symbol(token)
    width, _ = qr.symbol_size(border=0)
    assert isinstance(qr.version, int)  # a QR code, never a Micro QR (whose versions are "M1".."M4")
    capacity = _capacity(qr.version, "a")
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    hc1 = dcc_style(claims["sub"], claims["exp"], header["kid"])
    shc, shc_jws = shc_style(claims["sub"], claims["exp"], get_settings().issuer)
    return {
        "token_chars": len(token),
        "token_lengths": sorted({len(t) for t in tokens}),
        "token_parts": [len(p) for p in token.split(".")],
        "header": header,
        "version": qr.version,
        "error": qr.error,
        "designator": qr.designator,
        "mode": qr.mode,
        "modules": width,
        "capacity_bytes": capacity,
        "spare_bytes": capacity - len(token.encode()),
        "alternatives": [
            {"name": "ours: compact JWS, ES256, 2-character kid (byte mode)", "chars": len(token),
             "version": qr.version, "modules": width, "mode": qr.mode},
            {"name": "EU DCC style: HC1: base45(zlib(COSE_Sign1(CWT)))", "chars": len(hc1), **_symbol(hc1)},
            {"name": f"SMART Health Card style: shc:/ numeric of a zip:DEF JWS ({len(shc_jws)} characters)",
             "chars": len(shc), **_symbol([("shc:/", consts.MODE_BYTE), (shc[5:], consts.MODE_NUMERIC)])},
        ],
    }


# --- issue 21: a per-token pseudonym instead of the code id (QR unlinkability) -----------------------------------
# What issue 17 adds to every token in parallel: the issue time and a one-letter color (≈ +25 characters)
ISSUE_17_CLAIMS = {"iat": 1_795_000_000, "c": "g"}
LIMIT_VERSION = 10          # 10-M: 213 bytes, the largest symbol we accept (docs/BENCHMARKS.md)


def _signed(claims: dict[str, Any]) -> str:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k7", "typ": None})


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def prp_pseudonym(code_id: str, day_key: bytes) -> tuple[str, float]:
    """One AES block, encrypted with the day's key: the 11-byte code id and 5 random bytes, so each token's
    `sub` differs (22 characters instead of 15); the JWS signature already protects it, so no tag is needed.
    Verify decrypts it (CPU only: the one UpdateItem stays the only round trip). (sub, µs to decrypt)."""
    import os
    import time

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    raw = base64.urlsafe_b64decode(code_id + "=" * (-len(code_id) % 4))
    block = raw + os.urandom(16 - len(raw))
    sub = _b64(Cipher(algorithms.AES(day_key), modes.ECB()).encryptor().update(block))
    runs = 2000
    started = time.perf_counter()
    for _ in range(runs):
        data = base64.urlsafe_b64decode(sub + "==")
        back = Cipher(algorithms.AES(day_key), modes.ECB()).decryptor().update(data)
    decrypt_us = (time.perf_counter() - started) / runs * 1e6
    assert _b64(back[:len(raw)]) == code_id
    return sub, decrypt_us


def gcm_pseudonym(code_id: str, day_key: bytes) -> str:
    """AES-GCM of the code id, 12-byte nonce and 16-byte tag: what an off-the-shelf AEAD costs (52 characters)."""
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(day_key).encrypt(nonce, code_id.encode(), None)
    return _b64(nonce + sealed)


def unlinkable(code_id: str, exp: int) -> dict[str, Any]:
    """Token length and QR version (level M) of each variant, with and without issue 17's claims."""
    import os

    day_key = os.urandom(16)
    prp, decrypt_us = prp_pseudonym(code_id, day_key)
    variants = {"code id (today)": code_id, "AES block, per-day key (22 characters)": prp,
                "AES-GCM, per-day key (52 characters)": gcm_pseudonym(code_id, day_key)}
    rows = []
    for name, sub in variants.items():
        for with_17 in (False, True):
            token = _signed({"sub": sub, "exp": exp, **(ISSUE_17_CLAIMS if with_17 else {})})
            version = _symbol(token)["version"]
            capacity = _capacity(LIMIT_VERSION, "a")
            rows.append({"name": name + (" + issue 17's iat, c" if with_17 else ""), "chars": len(token),
                         "version": version, "spare_at_10M": capacity - len(token)})
    return {"variants": rows, "prp_decrypt_us": decrypt_us, "limit": f"{LIMIT_VERSION}-M"}


if __name__ == "__main__":
    import sys

    sys.path.insert(0, ".")
    result = unlinkable("ry1heM51xwBNZPQ", 1_795_000_180)
    print(f"QR unlinkability (issue 21): token length and QR version at level M; limit {result['limit']}")
    for row in result["variants"]:
        print(f"  {row['name']:60} {row['chars']:4} characters  version {row['version']:2}  "
              f"spare at 10-M: {row['spare_at_10M']:4}")
    print(f"  decrypting the AES-block pseudonym: {result['prp_decrypt_us']:.1f} µs per token (CPU only)")
