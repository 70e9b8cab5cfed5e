/* Offline verification of QR tokens, as the server verifies them (chalicelib/security/qr_tokens.py), with
 * WebCrypto: the checkpoint page uses it when the API is unreachable, slow or overloaded, and the tests run it
 * under Node.js 20 against the server's own verifier, case by case (tests/test_offline_verifier.py).
 *
 * verify(token, {jwks, trustList}, nowSeconds) -> {valid: true, issuer, color, iat, exp, sub}
 *                                              | {valid: false, reason}
 * `color` is the token's signed color claim `c` (0 green, 1 yellow, 2 red), as of `iat`; null when the token
 * carries none (a province that does not add it). Online answers stay the live color: this is the fallback.
 *
 * Paper codes (docs/identity.md "Paper codes"), as the server's security/paper_tokens.py: a token under the JWKS
 * key `pc1` with header `typ` hc-paper+jwt verifies to {valid, issuer: "national", paper: {number, valid_until,
 * color_at_issue, issued_at}, color (the printed one), printed: true, ...}; one whose number is in `revoked`
 * (the numbers of the signed revocation list, see revocations()) is refused as `revoked`. The key `pc1` never
 * verifies a QR token, nor a QR key a paper code.
 *
 * Entry rules (docs/tests-and-vaccinations.md): ruleSet() checks the signed rule set, ruleId() names a rule as the
 * server does, judge() applies a rule to what a token carries: the signed color, and never admits on a test or
 * dose requirement it cannot check offline (QR tokens carry no test or dose summary). */
"use strict";

const HCOffline = (() => {
  const LEEWAY_SECONDS = 5;          // the server's qr_tokens.LEEWAY_SECONDS
  const COLORS = ["green", "yellow", "red"];
  const ISSUER_PREFIX = "province:";
  const PAPER_KID = "pc1";                            // security/paper_tokens.py KID
  const PAPER_TYP = "hc-paper+jwt";                   // ... TYP
  const REVOCATIONS_TYP = "hc-paper-revocations+jwt"; // ... LIST_TYP
  const RULES_TYP = "entry-rules+jwt";                // services/entry_rules.py TYP
  const RULES_PURPOSE = "entry_rules";                // ... PURPOSE
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
    // PyJWT's `require`: a claim that is absent or null is missing
    for (const name of required) if (claims[name] === undefined || claims[name] === null) throw new Refused("malformed");
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

  // a key of our QR key ring: every key of the JWKS but the paper codes' one
  function qrKey(jwks, kid) {
    return kid === PAPER_KID ? undefined : ((jwks && jwks.keys) || []).find((k) => k.kid === kid);
  }

  function paperKey(jwks) {
    return ((jwks && jwks.keys) || []).find((k) => k.kid === PAPER_KID);
  }

  /** a paper code's token, as paper_tokens.verify; refused as `revoked` when its number is in `revoked` */
  async function verifyPaper(parsed, jwks, revoked, now) {
    if (parsed.header.kid !== PAPER_KID) throw new Refused("unknown_key");
    if (parsed.header.alg !== "ES256" || parsed.header.typ !== PAPER_TYP) throw new Refused("bad_signature");
    const jwk = paperKey(jwks);
    if (!jwk) throw new Refused("unknown_key");
    const checked = await checkedClaims(parsed, jwk, "ES256", ["sub", "pc", "iat", "exp", "col"], now);
    if (!["sub", "pc", "col"].every((k) => typeof checked[k] === "string")) throw new Refused("malformed");
    if (revoked && (revoked instanceof Set ? revoked.has(checked.pc) : revoked.includes(checked.pc))) {
      throw new Refused("revoked");
    }
    const color = COLORS.includes(checked.col) ? checked.col : null;
    return {valid: true, issuer: "national", color, printed: true, iat: isNumber(checked.iat) ? checked.iat : null,
            exp: checked.exp, sub: checked.sub,
            paper: {number: checked.pc, valid_until: checked.exp, color_at_issue: checked.col, issued_at: checked.iat}};
  }

  async function verifyNational(parsed, jwks, now) {
    const kid = parsed.header.kid;
    if (typeof kid !== "string") throw new Refused("unknown_key");
    const jwk = qrKey(jwks, kid);
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

  /** As the server (services/verifications.py): our QR keys first; a token they do not verify that names a
   * province, by its trust list; else one under the paper codes' key, as a paper code. A paper code's number
   * typed by hand needs the platform: refused as `number_offline`. */
  async function verify(token, {jwks, trustList, revoked} = {}, now = Math.floor(Date.now() / 1000)) {
    if (typeof token === "string" && /^[0-9]{12}$/.test(token.trim())) return {valid: false, reason: "number_offline"};
    let parsed;
    try {
      parsed = parse(token);
      return await verifyNational(parsed, jwks, now);
    } catch (e) {
      if (!(e instanceof Refused)) return {valid: false, reason: "malformed"};
      const province = parsed && ["unknown_key", "bad_signature"].includes(e.reason) ? unverifiedIssuer(parsed) : null;
      const paper = parsed && province === null && ["unknown_key", "malformed"].includes(e.reason) &&
        parsed.header.kid === PAPER_KID;
      if (province === null && !paper) return {valid: false, reason: e.reason};
      try {
        return paper ? await verifyPaper(parsed, jwks, revoked, now)
          : await verifyProvincial(parsed, province, trustList, now);
      } catch (e2) {
        return {valid: false, reason: e2 instanceof Refused ? e2.reason : "malformed"};
      }
    }
  }

  /** The claims of a signed document of ours (the revocation list, the rule set): kid, alg, typ, signature. */
  async function signedDocument(text, jwk, typ) {
    const parsed = parse(text);
    if (!jwk || parsed.header.kid !== jwk.kid || parsed.header.alg !== "ES256" || parsed.header.typ !== typ) {
      throw new Refused("bad_signature");
    }
    if (!(await signatureVerifies(parsed, jwk, "ES256"))) throw new Refused("bad_signature");
    return jsonObject(parsed.payload);
  }

  /** The held revocations after applying one page of the signed list (docs/identity.md "The revocation list").
   * held: {sequence, entries: {number: exp}} (sequence 0, no entries: nothing held yet). The page must verify
   * under `pc1` with typ hc-paper-revocations+jwt and answer the `since` asked for (held.sequence); otherwise
   * Refused, and the caller keeps what it held. Entries past their `exp` are dropped.
   * -> {sequence, entries, complete, next_update, iat} */
  async function revocations(text, jwks, held, now = Math.floor(Date.now() / 1000)) {
    const claims = await signedDocument(text, paperKey(jwks), REVOCATIONS_TYP);
    const sequence = (held && held.sequence) || 0;
    if (claims.since !== sequence || !Number.isInteger(claims.sequence) || claims.sequence < sequence ||
        !Array.isArray(claims.revoked) || !isNumber(claims.next_update) || !isNumber(claims.iat)) {
      throw new Refused("malformed");
    }
    const entries = {...((held && held.entries) || {})};
    for (const r of claims.revoked) {
      if (r && typeof r.number === "string" && isNumber(r.exp)) entries[r.number] = r.exp;
    }
    for (const [number, exp] of Object.entries(entries)) if (exp + LEEWAY_SECONDS <= now) delete entries[number];
    return {sequence: claims.sequence, entries, complete: claims.complete !== false, next_update: claims.next_update,
            iat: claims.iat};
  }

  /** The signed rule set (docs/tests-and-vaccinations.md "The signed rule set"), checked with a QR key of the
   * JWKS, typ entry-rules+jwt, purpose entry_rules, not past `exp` -> {version, iat, exp, rules}; Refused else. */
  async function ruleSet(text, jwks, now = Math.floor(Date.now() / 1000)) {
    let parsed;
    try { parsed = parse(text); } catch (e) { throw new Refused("malformed"); }
    const claims = await signedDocument(text, qrKey(jwks, parsed.header.kid), RULES_TYP);
    if (claims.purpose !== RULES_PURPOSE || !Array.isArray(claims.rules)) throw new Refused("malformed");
    if (!isNumber(claims.exp) || claims.exp + LEEWAY_SECONDS <= now) throw new Refused("expired");
    return {version: claims.version, iat: claims.iat, exp: claims.exp, rules: claims.rules};
  }

  /** A rule's id as the server names it (domain/lab_results.py EntryRule.rule_id): "er_" and the first 12 hex
   * digits of the SHA-256 of its canonical JSON. `compact` is the access token's `er` claim {c, t?, d?}. */
  async function ruleId(compact) {
    const canonical = {colors: [...compact.c].sort(), min_doses: compact.d ?? null,
                       negative_test_within_hours: compact.t ?? null};
    const text = `{"colors":${JSON.stringify(canonical.colors)},"min_doses":${JSON.stringify(canonical.min_doses)},` +
      `"negative_test_within_hours":${JSON.stringify(canonical.negative_test_within_hours)}}`;
    const digest = new Uint8Array(await subtle().digest("SHA-256", new TextEncoder().encode(text)));
    return "er_" + [...digest].map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 12);
  }

  /** A rule (an entry of the rule set) applied offline to a verified outcome, in the online answer's shape:
   * {admit, rule_id, unmet, unchecked}. The color requirement is judged on the signed color; a test or dose
   * requirement cannot be checked offline (the token carries no summary): it is listed in `unchecked`, and
   * `admit` is then null ("check in person"), never true. A paper code's color is the printed one, up to
   * 14 days old: it can deny, never admit. A token without a color cannot meet the color requirement offline. */
  function judge(rule, outcome) {
    const unmet = [], unchecked = [];
    const allowed = rule.colors.join("/");
    if (!outcome.color) {
      unchecked.push({code: "color_not_admitted", message: `颜色离线未知，需人工核验（需${allowed}）`,
                      message_en: `Color unknown offline: check it in person (needs ${allowed})`});
    } else if (!rule.colors.includes(outcome.color)) {
      unmet.push({code: "color_not_admitted", message: `健康码颜色不符合要求（需${allowed}）`,
                  message_en: `Code color ${outcome.color} is not admitted (needs ${allowed})`});
    } else if (outcome.printed) {
      unchecked.push({code: "color_not_admitted", message: "纸质码为打印时颜色，需人工核验当前颜色",
                      message_en: "A paper code shows the color when printed: check the live color in person"});
    }
    const hours = rule.negative_test_within_hours;
    if (hours !== null && hours !== undefined) {
      unchecked.push({code: `negative_test_within_${hours}h`, message: `需人工核验${hours}小时内核酸检测阴性结果（离线无法核验）`,
                      message_en: `Check the test result in person: a negative test within ${hours} h cannot be checked offline`});
    }
    if (rule.min_doses !== null && rule.min_doses !== undefined) {
      unchecked.push({code: `min_doses_${rule.min_doses}`, message: `需人工核验疫苗接种（至少${rule.min_doses}剂，离线无法核验）`,
                      message_en: `Check the vaccination in person: ${rule.min_doses} doses cannot be checked offline`});
    }
    return {admit: unmet.length ? false : unchecked.length ? null : true, rule_id: rule.rule_id, unmet, unchecked};
  }

  return {verify, revocations, ruleSet, ruleId, judge, LEEWAY_SECONDS, COLORS, PAPER_KID};
})();

if (typeof module !== "undefined" && module.exports) module.exports = HCOffline;
