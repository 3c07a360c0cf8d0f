"""Production refuses to start in a shape that would endanger citizens' data."""

import base64
import os

import pytest

from api.core.settings import ConfigError, load_settings
from server import create_app

SAFE = dict(
    app_env="production", miniapp_sandbox=False, database_url="postgres://db/gov", redis_url="redis://r:6379/0",
    pii_keys="k2:" + base64.b64encode(os.urandom(32)).decode(), pii_active_key_id="k2", blind_index_key="x" * 32,
    wechat_secret="real-secret", jwt_private_key="pem", alipay_app_private_key="pem", alipay_public_key="pem",
    alipay_aes_key="aes", presentation_private_key="pem", certificate_ca_dir="/etc/gov-miniapp/ca",
    sms_access_key_secret="real-sms-secret",
)


def test_a_complete_production_configuration_is_accepted():
    load_settings(**SAFE).check_production()


@pytest.mark.parametrize("override,needle", [
    ({"miniapp_sandbox": True}, "MINIAPP_SANDBOX"),
    ({"database_url": None}, "DATABASE_URL"),
    ({"redis_url": None}, "REDIS_URL"),
    ({"pii_keys": load_settings().pii_keys, "pii_active_key_id": "dev1"}, "PII_KEYS"),
    ({"blind_index_key": load_settings().blind_index_key}, "BLIND_INDEX_KEY"),
    ({"wechat_secret": load_settings().wechat_secret}, "WECHAT_SECRET"),
    ({"jwt_private_key": ""}, "JWT_PRIVATE_KEY"),
    ({"sms_access_key_secret": load_settings().sms_access_key_secret}, "SMS_ACCESS_KEY_SECRET"),
])
def test_production_refuses_unsafe_settings(override, needle):
    with pytest.raises(ConfigError, match=needle):
        create_app(load_settings(**{**SAFE, **override}))


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    for name in ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "WECHAT_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings()
    assert s.port == 8123 and s.data_dir == tmp_path
    assert s.effective_database_url == f"sqlite://{tmp_path.resolve() / 'app.sqlite3'}"
    assert s.wechat_base == "http://127.0.0.1:8123/sandbox/wechat/"


def test_production_refuses_the_sandbox_message_template_ids():
    from notifications.templates import TemplateError, Templates

    with pytest.raises(TemplateError, match="sandbox's id"):
        Templates(load_settings(**SAFE))
    # Every variant given a real id (the literal ids in messages.json and the settings' defaults are the sandbox's).
    real = {f"{channel}.{kind}": f"real-{channel}-{kind}" for kind, d in Templates(load_settings()).messages.items()
            for channel in ("wechat", "alipay", "sms") if channel in d}
    templates = Templates(load_settings(**SAFE, message_template_ids=real))
    assert templates.template_id("application_accepted", "wechat") == "real-wechat-application_accepted"
    missing_one = {k: v for k, v in real.items() if k != "sms.policy_push"}
    with pytest.raises(TemplateError, match=r"'policy_push'.sms"):
        Templates(load_settings(**SAFE, message_template_ids=missing_one))
    # A setting that holds a real id does as well as an override.
    Templates(load_settings(**SAFE, message_template_ids=missing_one, sms_template_policy="SMS_471200001"))


def test_the_shutdown_grace_and_the_listen_backlog_are_settings(monkeypatch):
    defaults = load_settings()
    assert (defaults.shutdown_grace_seconds, defaults.listen_backlog) == (30, 1024)
    monkeypatch.setenv("SHUTDOWN_GRACE_SECONDS", "12.5")
    monkeypatch.setenv("LISTEN_BACKLOG", "4096")
    settings = load_settings()
    assert (settings.shutdown_grace_seconds, settings.listen_backlog) == (12.5, 4096)
    assert create_app(settings).config.GRACEFUL_SHUTDOWN_TIMEOUT == 12.5  # Sanic's own grace is this one
    for name, bad in (("shutdown_grace_seconds", 0), ("listen_backlog", 0)):
        with pytest.raises(ValueError, match=name):
            load_settings(**{name: bad})


def test_sentinels_name_the_primary_and_redis_url_keeps_the_database(monkeypatch):
    from api.core.redis import arq_settings

    monkeypatch.setenv("REDIS_SENTINELS", "10.0.0.1:26379, 10.0.0.2:26380,[::1]:26381")
    monkeypatch.setenv("REDIS_URL", "redis://:secret@ignored-host/8")
    settings = load_settings()
    assert settings.sentinel_addresses == [("10.0.0.1", 26379), ("10.0.0.2", 26380), ("::1", 26381)]
    assert settings.redis_sentinel_service == "gov-redis"
    arq = arq_settings(settings)
    assert arq.sentinel and arq.host == settings.sentinel_addresses and arq.sentinel_master == "gov-redis"
    assert (arq.database, arq.password) == (8, "secret")
    monkeypatch.delenv("REDIS_URL")
    assert load_settings().redis_url and arq_settings(load_settings()).database == 0
    monkeypatch.setenv("REDIS_SENTINELS", "10.0.0.1")
    with pytest.raises(ValueError, match="REDIS_SENTINELS"):
        load_settings()


def test_without_sentinels_redis_url_is_redis_itself(monkeypatch):
    from api.core.redis import arq_settings

    monkeypatch.delenv("REDIS_SENTINELS", raising=False)
    settings = load_settings(redis_url="redis://10.0.0.9:6380/3")
    assert settings.sentinel_addresses == [] and not arq_settings(settings).sentinel
    assert (arq_settings(settings).host, arq_settings(settings).port) == ("10.0.0.9", 6380)
