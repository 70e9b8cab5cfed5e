"""Paper codes' tokens and numbers (security/paper_tokens.py, services/paper_codes.py): a key of their own purpose,
refusals with the documented reasons, and the Luhn check digit of the printed number."""
from __future__ import annotations

import jwt
import pytest

from chalicelib import clock
from chalicelib.security import paper_tokens, qr_tokens
from chalicelib.security.paper_tokens import PaperClaims
from chalicelib.security.qr_tokens import TokenRejected
from chalicelib.services.paper_codes import is_number, luhn_digit

pytestmark = pytest.mark.fast


def claims(now: int) -> PaperClaims:
    return PaperClaims("AAAAAAAAAAAAAAA", "123456789015", now, now + 14 * 86400, "green")


def test_a_paper_code_verifies_with_the_published_key_and_says_what_was_printed():
    now = clock.now()
    token = paper_tokens.issue(claims(now))
    assert paper_tokens.verify(token, now + 13 * 86400) == claims(now)
    assert paper_tokens.is_paper(token)
    header = jwt.get_unverified_header(token)
    assert (header["kid"], header["typ"], header["alg"]) == ("pc1", "hc-paper+jwt", "ES256")
    # an offline checkpoint needs only the JWK the JWKS publishes
    public = jwt.PyJWK(paper_tokens.jwk()).key
    assert jwt.decode(token, public, algorithms=["ES256"], options={"verify_exp": False})["col"] == "green"


def test_a_paper_code_is_refused_with_the_documented_reasons():
    now = clock.now()
    token = paper_tokens.issue(claims(now))
    with pytest.raises(TokenRejected) as expired:
        paper_tokens.verify(token, now + 14 * 86400 + 10)
    assert expired.value.reason == "expired"
    head, body, signature = token.split(".")
    with pytest.raises(TokenRejected) as tampered:
        paper_tokens.verify(f"{head}.{body[:-2]}AA.{signature}", now)
    assert tampered.value.reason in ("bad_signature", "malformed")
    # the revocation list is signed with the same key but is no paper code
    with pytest.raises(TokenRejected) as a_list:
        paper_tokens.verify(paper_tokens.sign_list({"sub": "x", "pc": "1", "iat": now, "exp": now + 60,
                                                    "col": "green"}), now)
    assert a_list.value.reason == "bad_signature"


def test_the_paper_key_and_the_qr_keys_never_stand_for_each_other():
    now = clock.now()
    paper = paper_tokens.issue(claims(now))
    with pytest.raises(TokenRejected) as as_qr:
        qr_tokens.verify(paper, 180, now)
    assert as_qr.value.reason == "unknown_key"
    qr, _ = qr_tokens.issue("AAAAAAAAAAAAAAA", now, 180)
    with pytest.raises(TokenRejected) as as_paper:
        paper_tokens.verify(qr, now)
    assert as_paper.value.reason == "unknown_key" and not paper_tokens.is_paper(qr)
    assert paper_tokens.jwk()["kid"] not in {k["kid"] for k in qr_tokens.jwks(180)["keys"]}


def test_the_number_carries_a_luhn_check_digit():
    # ISO/IEC 7812-1's worked example: 7992739871 has the check digit 3
    assert luhn_digit("7992739871") == "3"
    assert is_number("123456789015") and not is_number("123456789016") and not is_number("12345678901")
    # one digit changed, or two neighbours swapped, is caught
    number = "402816573924"
    body = number[:11] + luhn_digit(number[:11])
    for i in range(11):
        changed = body[:i] + str((int(body[i]) + 1) % 10) + body[i + 1:]
        assert not is_number(changed)
        if body[i] != body[i + 1] and {body[i], body[i + 1]} != {"0", "9"}:
            swapped = body[:i] + body[i + 1] + body[i] + body[i + 2:]
            assert not is_number(swapped), swapped


def test_garbage_is_no_paper_code():
    assert not paper_tokens.is_paper("not a token") and not paper_tokens.is_paper("")


@pytest.mark.parametrize("years", [-10, 10])
def test_a_paper_code_is_judged_by_the_platform_clock_not_the_wall_clock(years):
    # issued and checked years away from the wall clock (a shifted platform clock): valid until its own exp,
    # whatever the wall clock says of its iat and exp
    now = clock.now() + years * 365 * 86400
    assert paper_tokens.verify(paper_tokens.issue(claims(now)), now + 86400) == claims(now)
