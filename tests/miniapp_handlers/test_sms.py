"""The SMS client against the SMS sandbox: signed requests, refusals by reason, transient trouble, no phone in logs."""

import asyncio
import contextlib
import datetime as dt
import logging
import secrets

import pytest

from api.core import metrics
from api.core.errors import UpstreamOutcomeUnknown, UpstreamRejected, UpstreamUnavailable
from api.core.settings import ConfigError, load_settings
from api.core.workdays import SHANGHAI
from miniapp_handlers.base import MessageRejected, Provider, UpstreamInvalid
from miniapp_handlers.sms.client import SmsClient
from miniapp_handlers.sms.signing import TIMESTAMP_FORMAT, signature
from tests.factories import random_phone


@contextlib.asynccontextmanager
async def sms_client(settings):
    """An SmsClient on `settings`, closed after use."""
    client = SmsClient(settings)
    try:
        yield client
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def sms_faults(client, faults: dict):
    """Faults injected into the SMS sandbox for the block."""
    r = await client.put("/sandbox/sms/faults", json=faults)
    assert r.status_code == 200, r.text
    try:
        yield
    finally:
        await client.delete("/sandbox/sms/faults")


async def _sent_to(client, phone: str) -> list[dict]:
    items = (await client.get("/sandbox/sms/messages")).json()["items"]
    return [m for m in items if m["phone"] == phone]


def _signed_form(settings, **changes) -> dict[str, str]:
    form = {"Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "AccessKeyId": settings.sms_access_key_id,
            "SignatureMethod": "HMAC-SHA256", "SignatureVersion": "1.0", "SignatureNonce": secrets.token_hex(8),
            "Timestamp": dt.datetime.now(dt.UTC).strftime(TIMESTAMP_FORMAT), "PhoneNumbers": random_phone(),
            "SignName": settings.sms_sign_name, "TemplateCode": "SMS_TEST_RAW", "TemplateParam": '{"a":"b"}',
            **changes}
    form["Signature"] = signature(form, settings.sms_access_key_secret)
    return form


def _sample(outcome: str) -> float:
    return metrics.registry.get_sample_value("upstream_call_duration_seconds_count",
                                             {"platform": "sms", "operation": "send", "outcome": outcome}) or 0


async def test_a_sent_message_lands_in_the_sandbox_with_its_template_and_params(live, client):
    phone = random_phone()
    before = _sample("ok")
    async with sms_client(live.settings) as sms:
        biz_id = await sms.send(phone=phone, template_code="SMS_TEST_0001", params={"title": "高龄津贴 & 补贴+1"})
    assert biz_id
    sent = await _sent_to(client, phone)
    assert len(sent) == 1
    assert sent[0]["template_code"] == "SMS_TEST_0001" and sent[0]["params"] == {"title": "高龄津贴 & 补贴+1"}
    assert isinstance(sent[0]["received_at"], int)
    assert _sample("ok") == before + 1


@pytest.mark.parametrize(("phone", "template_code", "platform_code", "reason"), [
    ("12345", "SMS_TEST_0001", "isv.MOBILE_NUMBER_ILLEGAL", "bad_recipient"),
    ("2" + "0" * 10, "SMS_TEST_0001", "isv.MOBILE_NUMBER_ILLEGAL", "bad_recipient"),
    (None, "", "isv.TEMPLATE_MISSING", "bad_data"),
])
async def test_a_refused_message_says_why_and_is_not_recorded(live, client, phone, template_code, platform_code,
                                                              reason):
    phone = phone or random_phone()
    async with sms_client(live.settings) as sms:
        with pytest.raises(MessageRejected) as caught:
            await sms.send(phone=phone, template_code=template_code, params={"title": "x"})
    assert (caught.value.platform_code, caught.value.reason) == (platform_code, reason)
    assert await _sent_to(client, phone) == []


@pytest.mark.parametrize(("mode", "platform_code", "reason"), [
    ("quota", "isv.DAY_LIMIT_CONTROL", "quota"),
    ("user_refused", "isv.BLACK_KEY_CONTROL_LIMIT", "user_refused"),
])
async def test_injected_refusals_are_message_rejected(live, client, mode, platform_code, reason):
    phone = random_phone()
    async with sms_client(live.settings) as sms, sms_faults(client, {"fail": mode}):
        with pytest.raises(MessageRejected) as caught:
            await sms.send(phone=phone, template_code="SMS_TEST_0001", params={"title": "x"})
    assert (caught.value.platform_code, caught.value.reason) == (platform_code, reason)
    assert await _sent_to(client, phone) == []


@pytest.mark.parametrize("mode", ["busy", "rate_limit", "down"])
async def test_transient_trouble_is_upstream_unavailable(live, client, mode):
    async with sms_client(live.settings) as sms, sms_faults(client, {"fail": mode, "remaining": 1}):
        with pytest.raises(UpstreamUnavailable):
            await sms.send(phone=random_phone(), template_code="SMS_TEST_0001", params={"title": "x"})
        assert await sms.send(phone=random_phone(), template_code="SMS_TEST_0001", params={"title": "x"})


async def test_a_slow_provider_times_out_as_upstream_unavailable(live, client):
    settings = live.settings.model_copy(update={"platform_timeout_seconds": 0.2})
    async with sms_client(settings) as sms, sms_faults(client, {"latency_ms": 800}):
        with pytest.raises(UpstreamUnavailable) as caught:
            await sms.send(phone=random_phone(), template_code="SMS_TEST_0001", params={"title": "x"})
    assert caught.value.__cause__ is not None


@pytest.mark.parametrize("update", [{"sms_access_key_secret": "not-the-secret"},
                                    {"sms_access_key_id": "someone-elses-key"}])
async def test_wrong_credentials_are_refused_by_the_sandbox(live, client, update):
    phone = random_phone()
    async with sms_client(live.settings.model_copy(update=update)) as sms:
        with pytest.raises(UpstreamRejected):
            await sms.send(phone=phone, template_code="SMS_TEST_0001", params={"title": "x"})
    assert await _sent_to(client, phone) == []


async def test_the_sandbox_checks_signature_and_timestamp(live, client):
    s = live.settings
    assert (await client.post("/sandbox/sms/SendSms", data=_signed_form(s))).json()["Code"] == "OK"
    tampered = {**_signed_form(s), "TemplateCode": "SMS_OTHER"}
    r = await client.post("/sandbox/sms/SendSms", data=tampered)
    assert r.status_code == 400 and r.json()["Code"] == "SignatureDoesNotMatch"
    stale = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime(TIMESTAMP_FORMAT)
    r = await client.post("/sandbox/sms/SendSms", data=_signed_form(s, Timestamp=stale))
    assert r.status_code == 400 and r.json()["Code"] == "InvalidTimeStamp.Expired"
    unsigned = _signed_form(s)
    del unsigned["Signature"]
    r = await client.post("/sandbox/sms/SendSms", data=unsigned)
    assert r.status_code == 400 and r.json()["Code"] == "MissingSignature"
    r = await client.post("/sandbox/sms/SendSms", data=_signed_form(s, TemplateParam="[1, 2]"))
    assert r.json()["Code"] == "isv.TEMPLATE_PARAMS_ILLEGAL"


async def test_the_client_never_logs_the_phone(live, client, caplog):
    caplog.set_level(logging.DEBUG)
    ok_phone, refused_phone = random_phone(), random_phone()
    async with sms_client(live.settings) as sms:
        await sms.send(phone=ok_phone, template_code="SMS_TEST_0001", params={"title": "x"})
        async with sms_faults(client, {"fail": "user_refused"}):
            with pytest.raises(MessageRejected) as caught:
                await sms.send(phone=refused_phone, template_code="SMS_TEST_0001", params={"title": "x"})
        await sms.query(phone=ok_phone, send_date=dt.date.today())
    assert "sms.send ok" in caplog.text and "sms.query ok" in caplog.text
    assert "isv.BLACK_KEY_CONTROL_LIMIT" in caplog.text
    for phone in (ok_phone, refused_phone):
        assert phone not in caplog.text
        assert phone[-8:] not in caplog.text
    assert refused_phone not in str(caught.value)


async def test_the_delivery_report_finds_each_send_by_its_out_id(live, client):
    phone, other = random_phone(), random_phone()
    today = dt.datetime.now(SHANGHAI).date()
    async with sms_client(live.settings) as sms:
        await sms.send(phone=phone, template_code="SMS_TEST_0001", params={"title": "x"}, out_id="dlv_first")
        await sms.send(phone=phone, template_code="SMS_TEST_0001", params={"title": "y"}, out_id="dlv_second")
        await sms.send(phone=other, template_code="SMS_TEST_0001", params={"title": "z"}, out_id="dlv_first")
        (found,) = await sms.query(phone=phone, send_date=today, out_id="dlv_second")
        assert (found.status, found.out_id, found.error) == (3, "dlv_second", "DELIVERED")
        assert len(await sms.query(phone=phone, send_date=today)) == 2
        assert await sms.query(phone=phone, send_date=today - dt.timedelta(days=1)) == []
        assert await sms.query(phone=random_phone(), send_date=today) == []
        async with sms_faults(client, {"fail": "malformed"}):
            with pytest.raises(UpstreamInvalid):
                await sms.query(phone=phone, send_date=today)
        async with sms_faults(client, {"fail": "down"}):
            with pytest.raises(UpstreamUnavailable):
                await sms.query(phone=phone, send_date=today)


async def test_a_lost_answer_is_an_unknown_outcome_and_the_send_is_reported(live, client, caplog):
    caplog.set_level(logging.INFO)
    phone = random_phone()
    async with sms_client(live.settings.model_copy(update={"platform_timeout_seconds": 0.5})) as sms:
        async with sms_faults(client, {"fail": "lost_answer"}):
            with pytest.raises(UpstreamOutcomeUnknown):
                await sms.send(phone=phone, template_code="SMS_TEST_0001", params={"title": "x"}, out_id="dlv_lost")
        (found,) = await sms.query(phone=phone, send_date=dt.datetime.now(SHANGHAI).date(), out_id="dlv_lost")
    assert found.status == 3 and len(await _sent_to(client, phone)) == 1
    # The sandbox's handler, cancelled when the client gave up, is logged as the client's 499, not as our 500.
    for _ in range(40):
        if "'status': 499" in caplog.text:
            break
        await asyncio.sleep(0.05)
    assert "'status': 499" in caplog.text and "unhandled_error" not in caplog.text


async def test_the_delivery_report_checks_the_signature_too(live, client):
    s = live.settings
    form = {**_signed_form(s), "Action": "QuerySendDetails", "PhoneNumber": random_phone(), "SendDate": "20260101",
            "PageSize": "10", "CurrentPage": "1"}
    form["Signature"] = signature(form, s.sms_access_key_secret)
    r = await client.post("/sandbox/sms/QuerySendDetails", data=form)
    assert r.status_code == 200 and r.json()["Code"] == "OK" and r.json()["TotalCount"] == 0
    r = await client.post("/sandbox/sms/QuerySendDetails", data={**form, "SendDate": "20260102"})
    assert r.status_code == 400 and r.json()["Code"] == "SignatureDoesNotMatch"


def test_production_refuses_the_sandbox_sms_secret(tmp_path):
    settings = load_settings(app_env="production", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="SMS_ACCESS_KEY_SECRET"):
        settings.check_production()
    assert settings.sms_base == f"{settings.public_base_url}/sandbox/sms/"
    assert load_settings(sms_api_base="https://dysmsapi.example").sms_base == "https://dysmsapi.example/"


def test_the_sms_client_is_built_with_the_platforms(live):
    platforms = live.app.ctx.deps.platforms
    assert sorted(platforms) == ["alipay", "sms", "wechat"]
    assert isinstance(platforms["sms"], SmsClient) and isinstance(platforms["sms"], Provider)
    assert all(isinstance(p, Provider) for p in platforms.values())


async def test_an_answer_of_the_wrong_shape_is_upstream_invalid_and_not_recorded(live, client):
    phone = random_phone()
    async with sms_client(live.settings) as sms, sms_faults(client, {"fail": "malformed", "remaining": 1}):
        with pytest.raises(UpstreamInvalid) as caught:
            await sms.send(phone=phone, template_code="SMS_TEST_0001", params={"title": "x"})
        assert await sms.send(phone=phone, template_code="SMS_TEST_0001", params={"title": "x"})
    assert caught.value.status == 502 and caught.value.where == "Code,BizId"
    assert phone not in repr(caught.value)
    assert len(await _sent_to(client, phone)) == 1
