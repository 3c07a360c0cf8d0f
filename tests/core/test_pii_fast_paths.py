"""The shortcuts a registry import takes per row give the same answers as the long way: today's date read at most
once a second, canonical phone numbers left as they are, and the ciphertext's URL-safe base64 written in one call."""

from __future__ import annotations

import base64
import datetime as dt
import hmac

from api.citizens import idnumber
from api.core import pii
from api.core.settings import load_settings
from tests.factories import random_id_number


def test_an_id_number_born_tomorrow_is_refused_and_one_born_today_is_not(monkeypatch):
    today = dt.date.today()
    tomorrow = today + dt.timedelta(days=1)
    assert idnumber.problem(random_id_number(today.strftime("%Y%m%d"))) is None
    assert idnumber.problem(random_id_number(tomorrow.strftime("%Y%m%d"))) == "身份证号中的出生日期无效"

    # The cached day moves on with the clock: a second later, tomorrow has come.
    class Tomorrow(dt.date):
        @classmethod
        def today(cls):
            return tomorrow

    monkeypatch.setattr(idnumber.dt, "date", Tomorrow)
    monkeypatch.setattr(idnumber, "_today_cache", (idnumber._today_cache[0] - 1, today))
    assert idnumber.problem(random_id_number(tomorrow.strftime("%Y%m%d"))) is None


def test_phone_numbers_normalise_the_same_with_or_without_the_shortcut():
    for given, canonical in [("13800138000", "13800138000"), (" 13800138000 ", "13800138000"),
                             ("+86 138-0013-8000", "13800138000"), ("8613800138000", "13800138000"),
                             ("138 0013 8000", "13800138000"), ("1380013800", "1380013800"),
                             ("１３８００１３８０００", "１３８００１３８０００")]:  # no ASCII: the long way
        assert pii.normalize(given, kind="phone") == canonical, given


def test_a_ciphertext_is_url_safe_base64_of_nonce_and_sealed_text_and_decrypts():
    c = pii.build_cipher(load_settings())
    seen = set()
    for plain in ["张三", "阿依古丽·买买提", "x" * 200, ""]:
        for _ in range(50):  # enough nonces that '+' and '/' would show up in plain base64
            token = c.encrypt(plain, context="population.name")
            fmt, kid, body = token.split(":", 2)
            assert (fmt, kid) == ("v1", c.active_key_id)
            assert "+" not in body and "/" not in body and "\n" not in body
            raw = base64.urlsafe_b64decode(body)
            assert len(raw) == 12 + len(plain.encode()) + 16
            assert c.decrypt(token, context="population.name") == plain
            seen.add(body)
    assert len(seen) == 200  # a fresh nonce every time
    blind = c.blind_index(" 13800138000", kind="phone")
    assert blind == hmac.new(c.blind_key, b"phone:13800138000", "sha256").hexdigest()


def test_a_blind_index_is_the_hmac_of_its_key_whatever_the_key_length():
    # A key longer than SHA-256's 64-byte block is hashed first; a shorter one is padded: both as RFC 2104 says.
    for key in [b"k", b"dev-blind-index-key", bytes(range(64)), bytes(range(65)), "密钥".encode() * 40]:
        c = pii.PiiCipher(keys={"k1": bytes(32)}, active_key_id="k1", blind_key=key)
        for value, kind in [("430102199001011234", "id_number"), ("13800138000", "phone"), ("阿依古丽·买买提", "name"),
                            ("x" * 300, "name")]:
            message = f"{kind}:{pii.normalize(value, kind=kind)}".encode()
            assert c.blind_index(value, kind=kind) == hmac.new(key, message, "sha256").hexdigest(), (key, value)
    # Each key keeps its own states: two ciphers in one process never share an index.
    one, two = (pii.PiiCipher(keys={}, active_key_id="k1", blind_key=k) for k in (b"one", b"two"))
    assert one.blind_index("13800138000", kind="phone") != two.blind_index("13800138000", kind="phone")
