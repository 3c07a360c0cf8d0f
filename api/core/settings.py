"""Settings read from the environment (pydantic-settings)."""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that ship with the code: fine on a laptop, refused in production.
DEV_PII_KEYS = "dev1:ZGV2LW9ubHktcGlpLWtleS0zMi1ieXRlcy0wMDAwMDA="
DEV_BLIND_INDEX_KEY = "dev-only-blind-index-key"
DEV_WECHAT_SECRET = "sandbox-wechat-secret"
DEV_SMS_SECRET = "sandbox-sms-secret"


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?")
# The development default: a console served on this machine (Vite, another port) may call the API.
_LOCAL_ORIGIN = re.compile(r"https?://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?$")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@functools.cache
def _networks(value: str) -> tuple:
    return tuple(ipaddress.ip_network(network, strict=False) for network in _split(value))


class ConfigError(RuntimeError):
    """The configuration cannot run in the mode it asks for."""


class Settings(BaseSettings):
    """Every knob of the service; each field is an environment variable of the same name."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    app_env: Literal["development", "test", "production"] = "development"
    port: int = 8000
    host: str = "127.0.0.1"
    workers: int = 1
    # On SIGTERM a worker stops accepting, lets requests in flight finish for up to this long, then cuts the rest
    # and closes its pools (Sanic's GRACEFUL_SHUTDOWN_TIMEOUT).
    shutdown_grace_seconds: float = Field(default=30.0, gt=0)
    # Connections the kernel queues before a worker accepts them; the kernel caps it at net.core.somaxconn.
    listen_backlog: int = Field(default=1024, ge=1)
    data_dir: Path = Path("./data")
    database_url: str | None = None
    # Read-only routes that tolerate lag (catalogue, public verify, policy pages, dashboards) read here: a streaming
    # replica of DATABASE_URL. Unset: they read from DATABASE_URL like everything else.
    database_replica_url: str | None = None
    redis_url: str | None = None
    # Redis behind Sentinel: comma-separated host:port of the sentinels (empty: REDIS_URL's host is Redis itself) and
    # the name they monitor the primary by. With sentinels, REDIS_URL gives only the database number and password
    # (its host is ignored; unset, database 0).
    redis_sentinels: str = ""
    redis_sentinel_service: str = "gov-redis"
    db_pool_max: int = 10
    # An unreachable database or Redis answers 503 service_unavailable soon rather than holding the request: how
    # long to wait for a new connection, for one PostgreSQL statement (the job workers' set-wise statements over
    # the whole population share it, hence more than a request needs) and for a Redis reply (a command is tried
    # three times), and the Retry-After (seconds) the 503 carries.
    db_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    db_command_timeout_seconds: float = Field(default=30.0, gt=0)
    redis_timeout_seconds: float = Field(default=2.0, gt=0)
    outage_retry_after_seconds: int = Field(default=5, ge=1)
    public_base_url: str | None = None
    log_level: str = "INFO"
    access_log: bool = True
    trusted_proxies: int = 0
    # Browsers (the staff console) may call the API from these origins, comma-separated exact origins
    # (`https://console.example.gov.cn`). Unset: none in production, localhost and 127.0.0.1 on any port elsewhere.
    # Mini-programs, terminals and servers send no Origin and need none.
    cors_origins: str | None = None
    # /metrics answers scrapes from these networks (CIDR, comma-separated) and requests bearing
    # `Authorization: Bearer <METRICS_TOKEN>` (empty: no token opens it); anyone else gets 403.
    metrics_allow_networks: str = "127.0.0.0/8,::1/128"
    metrics_token: str = ""

    # Personal data at rest: "kid:base64(32 bytes),kid2:..." and the id that encrypts new data.
    pii_keys: str = DEV_PII_KEYS
    pii_active_key_id: str = "dev1"
    blind_index_key: str = DEV_BLIND_INDEX_KEY

    # Access tokens (Ed25519). PEM text; empty means a key generated under DATA_DIR/keys.
    jwt_private_key: str = ""
    jwt_issuer: str = "gov-miniapp"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    admin_refresh_token_ttl_seconds: int = 12 * 3600

    # Certificates: the folder of the issuing CA chain and department signing keys (generated as a demo CA
    # under DATA_DIR/keys/ca in development), and the Ed25519 key that signs licence presentations (亮证).
    certificate_ca_dir: Path | None = None
    presentation_private_key: str = ""
    presentation_ttl_seconds: int = 120
    verify_rate_per_ip: int = 60

    # One person, one code: how long a code lives, the clock skew terminals are allowed, and how long each
    # signing key signs before the next one (published a whole period ahead) takes over.
    code_ttl_seconds: int = 60
    code_clock_skew_seconds: int = 10
    code_key_period_hours: int = 7 * 24

    # The mini-program platforms.
    miniapp_sandbox: bool = True
    wechat_appid: str = "wx0000sandbox0000"
    wechat_secret: str = DEV_WECHAT_SECRET
    wechat_api_base: str | None = None
    alipay_appid: str = "2021000000000000"
    alipay_gateway: str | None = None
    alipay_app_private_key: str = ""
    alipay_public_key: str = ""
    alipay_aes_key: str = ""
    # The sandbox Alipay's own signing key (never used in production).
    sandbox_alipay_private_key: str = ""
    platform_timeout_seconds: float = 5.0
    platform_max_threads: int = 16
    # The SMS provider (Aliyun dysmsapi SendSms compatible).
    sms_api_base: str | None = None
    sms_access_key_id: str = "sandbox-sms-key"
    sms_access_key_secret: str = DEV_SMS_SECRET
    sms_sign_name: str = "政务服务"
    sms_template_policy: str = "SMS_POLICY_0001"
    sms_template_otp: str = "SMS_OTP_0001"  # the one-time login code; its one parameter is `code`

    # Background jobs (arq). The embedded run works them inside the server process; production runs
    # `python server.py worker` processes (INLINE_WORKER=1 also works them in each server process).
    job_queue: str = "arq:queue"
    inline_worker: bool | None = None
    # `python server.py import` checks and encrypts a large file's rows in this many processes (1: in its own).
    import_processes: int = Field(default=2, ge=1)
    # A campaign's matching step is held by one run under this lease, renewed every third of it; a dead run's step
    # is restarted by the watchdog (every 5 s) once it lapses.
    campaign_step_lease_seconds: float = Field(default=15, gt=0)
    # PostgreSQL: chunks of a campaign's matching written at once, each its own transaction on its own connection
    # (about one database core each). SQLite has one writer: always 1 there. Two lanes published 1M people's campaign
    # 1.4x faster than one on the 2-core bench machine (bench/push.py, deploy/postgresql.conf).
    campaign_match_parallel: int = Field(default=2, ge=1, le=16)

    # The push fan-out: rows a sender claims at once, calls in flight per sender (the most a crash can leave
    # uncertain), how long a claim holds, and each channel's rate shared by every worker (messages per second).
    push_senders: int = 2
    push_batch_size: int = 500
    push_concurrency: int = 50
    # A campaign's SMS is one text for everyone, so one SendSms request carries up to this many numbers (the provider
    # takes 1000), tagged with one OutId the rows keep for their delivery report. 1: a request per message.
    sms_numbers_per_send: int = Field(default=100, ge=1, le=1000)
    # Renewed every third of it by the live sender: a dead sender's rows go back within about this long.
    delivery_lease_seconds: int = Field(default=10, ge=2)
    push_rate_wechat: int = 2000
    push_rate_alipay: int = 1000
    push_rate_sms: int = 200
    # A delivery that keeps failing for a passing reason is retried with backoff (2 s doubling, at most 5 min apart)
    # for this long after its first failure, then ends `expired` (GOV.UK Notify's 48 tries 5 minutes apart).
    delivery_retry_seconds: int = Field(default=4 * 3600, ge=0)
    # Retention. A delivery's content (the payload: parameters, a sealed phone, rendered text) is erased this many
    # days after the row was written, once the row is finished; its status, channel and times stay (GOV.UK Notify
    # keeps 7 days). The citizen's inbox is their own record and is not erased. The audit log is kept at least six
    # months (网络安全法 §21: network logs no less than six months); PostgreSQL drops whole months past it.
    message_content_retention_days: int = Field(default=7, ge=1)
    audit_retention_days: int = Field(default=180, ge=180)
    # The event lane (notifications/events.py): how often each worker looks for event messages to send, and how
    # many it takes at once. Campaign senders never take these rows, so an event never waits behind a campaign.
    event_poll_seconds: float = Field(default=0.2, gt=0)
    event_batch_size: int = Field(default=100, ge=1)
    # Per citizen, across all campaigns (event messages ignore both): no policy push is handed to WeChat, Alipay or
    # SMS between the quiet start and end, Beijing time (deferred to the end, not dropped), and at most this many
    # policy pushes per person in any rolling 7 days (the next ones are skipped as `weekly_cap`; the inbox stands).
    push_quiet_start: dt.time = dt.time(22, 0)
    push_quiet_end: dt.time = dt.time(8, 0)
    push_weekly_cap_per_citizen: int = Field(default=3, ge=0)
    # Maker-checker: a publish whose audience, counted at publish time, is over this many people waits for a second
    # policy admin's approval (POST /api/v1/admin/campaigns/{id}/approve) before anything is granted or sent.
    maker_checker_threshold: int = Field(default=10000, ge=0)
    wechat_template_policy: str = "sandbox-tpl-policy"
    alipay_template_policy: str = "sandbox-tpl-policy"
    policy_page: str = "pages/policy/detail"
    # Template ids of the message kinds in notifications/templates/messages.json, by "<channel>.<kind>"
    # (e.g. {"wechat.application_accepted": "..."}): they override the ids written there.
    message_template_ids: dict[str, str] = {}

    # The province this deployment serves (GB/T 2260 code): the default handling region of applications.
    home_region: str = Field(default="430000", pattern=r"^[1-8][0-9]0000$")

    # Rate limits (requests per window).
    login_rate_per_ip: int = 120
    login_rate_per_account: int = 20
    login_rate_window_seconds: int = 60
    # SMS one-time codes (POST /auth/phone/otp), the fresh proof a login whose phone proof is replayable needs: how
    # long a code lives, wrong tries before it is burnt, how soon the same number may ask again, and how many codes
    # one number and one address may ask for in the window.
    phone_otp_ttl_seconds: int = Field(default=300, ge=30, le=1800)
    phone_otp_max_tries: int = Field(default=5, ge=1, le=10)
    phone_otp_resend_seconds: int = Field(default=60, ge=0)
    phone_otp_rate_per_phone: int = Field(default=5, ge=1)
    phone_otp_rate_per_ip: int = Field(default=20, ge=1)
    phone_otp_rate_window_seconds: int = Field(default=3600, ge=1)
    real_name_tries_per_day: int = 5
    admin_max_failed_logins: int = 5
    admin_lock_minutes: int = 15

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str | None) -> str | None:
        for origin in _split(value or ""):
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(f"CORS_ORIGINS: {origin!r} is no origin (scheme://host[:port], no path, no '*')")
        return value

    @field_validator("metrics_allow_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        for network in _split(value):
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad one
        return value

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels(cls, value: str) -> str:
        for address in _split(value):
            host, _, port = address.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"REDIS_SENTINELS: {address!r} is no host:port")
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> "Settings":
        if self.public_base_url is None:
            self.public_base_url = f"http://127.0.0.1:{self.port}"
        if self.redis_sentinels and not self.redis_url:
            self.redis_url = "redis://sentinel/0"  # the database number only: the sentinels name the host
        return self

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """The sentinels as (host, port) pairs; empty when Redis is reached directly."""
        pairs = (address.rpartition(":") for address in _split(self.redis_sentinels))
        return [(host.strip("[]"), int(port)) for host, _, port in pairs]

    @property
    def works_jobs_inline(self) -> bool:
        """True when this server process also works the job queue (the embedded default)."""
        return self.inline_worker if self.inline_worker is not None else not self.redis_url

    @property
    def cors_allow_list(self) -> list[str | re.Pattern]:
        """The origins browsers may call from: the configured ones, or the mode's default."""
        if self.cors_origins is not None:
            return _split(self.cors_origins)
        return [] if self.production else [_LOCAL_ORIGIN]

    @property
    def metrics_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The networks whose scrapes of /metrics need no token."""
        return _networks(self.metrics_allow_networks)

    @property
    def production(self) -> bool:
        """True when running as the live province service."""
        return self.app_env == "production"

    @property
    def effective_database_url(self) -> str:
        """The database URL, or the embedded SQLite file under DATA_DIR."""
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'app.sqlite3').resolve()}"

    @property
    def wechat_base(self) -> str:
        """Base URL of the WeChat API (the sandbox unless set)."""
        return (self.wechat_api_base or f"{self.public_base_url}/sandbox/wechat/").rstrip("/") + "/"

    @property
    def alipay_gateway_url(self) -> str:
        """The Alipay gateway URL (the sandbox unless set)."""
        return self.alipay_gateway or f"{self.public_base_url}/sandbox/alipay/gateway.do"

    @property
    def sms_base(self) -> str:
        """Base URL of the SMS provider's API (the sandbox unless set)."""
        return (self.sms_api_base or f"{self.public_base_url}/sandbox/sms/").rstrip("/") + "/"

    def check_production(self) -> None:
        """Refuse to run production with the sandbox, default secrets or embedded stores."""
        if not self.production:
            return
        problems = []
        if self.miniapp_sandbox:
            problems.append("MINIAPP_SANDBOX must be 0 in production")
        if not self.database_url:
            problems.append("DATABASE_URL is required in production")
        if not self.redis_url:
            problems.append("REDIS_URL is required in production")
        if self.pii_keys == DEV_PII_KEYS or "dev1:" in self.pii_keys:
            problems.append("PII_KEYS holds the development key")
        if self.blind_index_key == DEV_BLIND_INDEX_KEY:
            problems.append("BLIND_INDEX_KEY is the development default")
        if self.wechat_secret == DEV_WECHAT_SECRET:
            problems.append("WECHAT_SECRET is the sandbox default")
        if self.sms_access_key_secret == DEV_SMS_SECRET:
            problems.append("SMS_ACCESS_KEY_SECRET is the sandbox default")
        if self.certificate_ca_dir is None:
            problems.append("CERTIFICATE_CA_DIR must name the provisioned signing keys in production")
        for name in ("jwt_private_key", "presentation_private_key", "alipay_app_private_key", "alipay_public_key",
                     "alipay_aes_key"):
            if not getattr(self, name):
                problems.append(f"{name.upper()} must be set in production")
        if problems:
            raise ConfigError("; ".join(problems))


def load_settings(**overrides) -> Settings:
    """Settings from the environment, with explicit overrides (used by tests)."""
    return Settings(**overrides)

