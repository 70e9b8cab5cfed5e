/* Offline verification of QR tokens, as the server verifies them (chalicelib/security/qr_tokens.py), with
 * WebCrypto: the checkpoint page uses it when the API is unreachable, slow or overloaded, and the tests run it
 * under Node.js 20 against the server's own verifier, case by case (tests/test_offline_verifier.py).
 *
 * verify(token, {jwks, trustList}, nowSeconds) -> {valid: true, issuer, color, iat, exp, sub}
 *                                              | {valid: false, reason}
 * `color` is the token's signed color claim `c` (0 green, 1 yellow, 2 red), as of `iat`; null when the token
 * carries none (a province that does not add it). Online answers stay the live color: this is the fallback. */
"use strict";

const HCOffline = (() => {
  const LEEWAY_SECONDS = 5;          // the server's qr_tokens.LEEWAY_SECONDS
  const COLORS = ["green", "yellow", "red"];
  const ISSUER_PREFIX = "province:";
  const subtle = () => globalThis.crypto.subtle;

  class Refused extends Error {
    constructor(reason) { super(reason); this.reason = reason; }
  }

  // base64url without padding (RFC 7515 §2); anything else is not a JWS segment
  function b64url(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Refused("malformed");
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function jsonObject(bytes) {
    let value;
    try {
      value = JSON.parse(new TextDecoder("utf-8", {fatal: true}).decode(bytes));
    } catch (e) {
      throw new Refused("malformed");
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Refused("malformed");
    return value;
  }

  function isNumber(v) { return typeof v === "number" && Number.isFinite(v); }

  /** header, claims and signature of a compact JWS, read without verifying; Refused("malformed") otherwise */
  function parse(token) {
    if (typeof token !== "string") throw new Refused("malformed");
    const parts = token.trim().split(".");
    if (parts.length !== 3) throw new Refused("malformed");
    const header = jsonObject(b64url(parts[0]));
    const payload = b64url(parts[1]);
    const signature = b64url(parts[2]);
    if ("kid" in header && typeof header.kid !== "string") throw new Refused("malformed");
    return {header, payload, signature, signingInput: new TextEncoder().encode(`${parts[0]}.${parts[1]}`)};
  }

  function unverifiedIssuer(parsed) {
    try {
      const claims = jsonObject(parsed.payload);
      return typeof claims.iss === "string" && claims.iss.startsWith(ISSUER_PREFIX) ? claims.iss.slice(ISSUER_PREFIX.length) : null;
    } catch (e) {
      return null;
    }
  }

  const keyCache = new Map();   // JSON of a JWK -> CryptoKey
  async function importKey(jwk, alg) {
    const id = `${alg}|${jwk.kty}|${jwk.crv}|${jwk.x}|${jwk.y}`;
    if (!keyCache.has(id)) {
      const material = alg === "ES256" ? {kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y} : {kty: "OKP", crv: "Ed25519", x: jwk.x};
      const algorithm = alg === "ES256" ? {name: "ECDSA", namedCurve: "P-256"} : {name: "Ed25519"};
      keyCache.set(id, subtle().importKey("jwk", material, algorithm, false, ["verify"]));
    }
    try {
      return await keyCache.get(id);
    } catch (e) {
      keyCache.delete(id);
      throw new Refused(alg === "EdDSA" ? "unsupported_offline" : "unknown_key");
    }
  }

  async function signatureVerifies(parsed, jwk, alg) {
    const key = await importKey(jwk, alg);
    if (alg === "ES256") {
      // JWS ES256 is the raw r||s, 64 bytes (RFC 7518 §3.4), which is what WebCrypto's ECDSA takes
      if (parsed.signature.length !== 64) return false;
      return subtle().verify({name: "ECDSA", hash: "SHA-256"}, key, parsed.signature, parsed.signingInput);
    }
    return subtle().verify({name: "Ed25519"}, key, parsed.signature, parsed.signingInput);
  }

  /** the claims of a token whose signature verifies; the same order of checks as PyJWT's decode */
  async function checkedClaims(parsed, jwk, alg, required, now) {
    if (!(await signatureVerifies(parsed, jwk, alg))) throw new Refused("bad_signature");
    const claims = jsonObject(parsed.payload);
    for (const name of required) if (!(name in claims)) throw new Refused("malformed");
    if ("nbf" in claims) {
      if (!isNumber(claims.nbf) || typeof claims.nbf === "boolean") throw new Refused("malformed");
      if (claims.nbf > now) throw new Refused("malformed");
    }
    if ("aud" in claims && claims.aud) throw new Refused("malformed");   // no audience is expected
    if (!isNumber(claims.exp) || claims.exp + LEEWAY_SECONDS <= now) throw new Refused("expired");
    if (typeof claims.sub !== "string") throw new Refused("malformed");
    return claims;
  }

  function colorOf(claims) {
    return Number.isInteger(claims.c) && claims.c >= 0 && claims.c < COLORS.length ? COLORS[claims.c] : null;
  }

  async function verifyNational(parsed, jwks, now) {
    const kid = parsed.header.kid;
    if (typeof kid !== "string") throw new Refused("unknown_key");
    const jwk = ((jwks && jwks.keys) || []).find((k) => k.kid === kid);
    if (!jwk) throw new Refused("unknown_key");
    if (parsed.header.alg !== "ES256") throw new Refused("bad_signature");
    const claims = await checkedClaims(parsed, jwk, "ES256", ["exp", "sub"], now);
    return {valid: true, issuer: "national", color: colorOf(claims), iat: isNumber(claims.iat) ? claims.iat : null,
            exp: claims.exp, sub: claims.sub};
  }

  async function verifyProvincial(parsed, province, trustList, now) {
    if (!/^[0-9]{2}$/.test(province)) throw new Refused("unknown_province");
    const listed = trustList && trustList.provinces && trustList.provinces[province];
    if (!listed || (!listed.keys.length && !listed.revoked.length)) throw new Refused("unknown_province");
    const kid = parsed.header.kid;
    const jwk = listed.keys.find((k) => k.kid === kid);
    if (!jwk && listed.revoked.some((r) => r.kid === kid)) throw new Refused("key_revoked");
    if (!jwk) throw new Refused("unknown_key");
    if (parsed.header.alg !== jwk.alg || !["ES256", "EdDSA"].includes(jwk.alg)) throw new Refused("bad_signature");
    if (jwk.nbf !== undefined && jwk.nbf !== null && now < jwk.nbf) throw new Refused("key_not_yet_valid");
    if (jwk.exp !== undefined && jwk.exp !== null && now >= jwk.exp) throw new Refused("key_expired");
    const claims = await checkedClaims(parsed, jwk, jwk.alg, ["exp", "sub", "iss"], now);
    return {valid: true, issuer: `province:${province}`, color: colorOf(claims),
            iat: isNumber(claims.iat) ? claims.iat : null, exp: claims.exp, sub: claims.sub};
  }

  /** As the server: our keys first; a token our keys do not verify that names a province, by its trust list. */
  async function verify(token, {jwks, trustList} = {}, now = Math.floor(Date.now() / 1000)) {
    let parsed;
    try {
      parsed = parse(token);
      return await verifyNational(parsed, jwks, now);
    } catch (e) {
      if (!(e instanceof Refused)) return {valid: false, reason: "malformed"};
      const province = parsed && ["unknown_key", "bad_signature"].includes(e.reason) ? unverifiedIssuer(parsed) : null;
      if (province === null) return {valid: false, reason: e.reason};
      try {
        return await verifyProvincial(parsed, province, trustList, now);
      } catch (e2) {
        return {valid: false, reason: e2 instanceof Refused ? e2.reason : "malformed"};
      }
    }
  }

  return {verify, LEEWAY_SECONDS, COLORS};
})();

if (typeof module !== "undefined" && module.exports) module.exports = HCOffline;
