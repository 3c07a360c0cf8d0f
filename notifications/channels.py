"""The push channels: who a row reaches on its channel (openid, Alipay user, phone), consent, and sending."""

from __future__ import annotations

from dataclasses import dataclass, replace

from api.core import pii, rawsql
from api.core.deps import Deps
from api.core.errors import UpstreamOutcomeUnknown, UpstreamUnavailable
from api.core.logging import get_logger
from api.core.settings import Settings
from miniapp_handlers.base import MessageRejected
from notifications import templates
from notifications.models import NotificationOptOut, Subscription
from notifications.templates import TemplateError

log = get_logger("notifications.channels")

EXTERNAL = ("wechat", "alipay", "sms")
# Refusals that say "not this channel, try the citizen's next one" rather than "this message is broken".
FALL_THROUGH = frozenset({"user_refused", "no_consent", "no_account", "no_phone", "opted_out", "bad_recipient"})
QUOTA_PAUSE_SECONDS = 600  # a platform's daily or per-minute quota ran out: the channel rests this long


@dataclass(frozen=True)
class Message:
    """One campaign's message: the params its template (notifications/templates, `kind`) renders per channel, and
    what it opens: the policy, or each person's own record (`ref_kind`, a grant) where the campaign has one."""

    policy_id: str
    topic: str
    page: str  # the mini-program page the platform message opens
    values: dict[str, str]  # the template's params
    kind: str = "policy_push"
    ref_kind: str = "policy"  # the kind of each person's own ref (see CampaignRun.ref_ids); "policy": the policy's
    ref_page: str | None = None  # the page of a person's own ref, `{id}` its id

    def params(self) -> dict:
        """What the template's fields are made of."""
        return self.values

    def ref(self, own_id: str | None) -> tuple[str, str]:
        """The (kind, id) a person's inbox message opens: their own record when they have one, else the policy."""
        return (self.ref_kind, own_id) if own_id else ("policy", self.policy_id)

    def opening(self, own_id: str | None) -> Message:
        """The message as it goes to a person whose own ref is `own_id` (its page opens that record)."""
        if own_id is None or self.ref_page is None:
            return self
        return replace(self, page=self.ref_page.format(id=own_id))


async def addresses(channel: str, rows: list[dict], settings: Settings) -> dict[str, str]:
    """Row id → where the message goes on `channel` (rows with no address are left out)."""
    if channel in ("wechat", "alipay"):
        citizen_ids = sorted({r["citizen_id"] for r in rows if r["citizen_id"]})
        if not citizen_ids:
            return {}
        appid = settings.wechat_appid if channel == "wechat" else settings.alipay_appid
        accounts = await rawsql.fetch(
            "SELECT citizen_id, platform_uid FROM platform_account WHERE platform = ? AND appid = ? "
            f"AND citizen_id IN {rawsql.in_list(citizen_ids)} ORDER BY last_login_at", [channel, appid, *citizen_ids])
        latest = {a["citizen_id"]: a["platform_uid"] for a in accounts}  # the last login wins
        return {r["id"]: latest[r["citizen_id"]] for r in rows if r["citizen_id"] in latest}
    if channel == "sms":
        return await _phones(rows)
    return {}


async def _phones(rows: list[dict]) -> dict[str, str]:
    c = pii.cipher()
    citizen_ids = sorted({r["citizen_id"] for r in rows if r["citizen_id"]})
    people = sorted({r["person_bidx"] for r in rows if r["person_bidx"]})
    own = {r["id"]: r["phone_enc"] for r in await rawsql.fetch(
        f"SELECT id, phone_enc FROM citizen WHERE id IN {rawsql.in_list(citizen_ids)}", citizen_ids)} \
        if citizen_ids else {}
    registry = {r["id_number_bidx"]: r["phone_enc"] for r in await rawsql.fetch(
        "SELECT id_number_bidx, phone_enc FROM population_record WHERE id_number_bidx IN "
        f"{rawsql.in_list(people)}", people)} if people else {}
    found = {}
    for r in rows:
        # The number the citizen confirmed in the app comes before the registry's.
        sealed = (r.get("payload") or {}).get("to") if isinstance(r.get("payload"), dict) else None
        if sealed:  # an event for someone without an account carries the number it goes to
            found[r["id"]] = c.decrypt(sealed, context="outbox.phone")
        elif own.get(r["citizen_id"]):
            found[r["id"]] = c.decrypt(own[r["citizen_id"]], context="citizen.phone")
        elif registry.get(r["person_bidx"]):
            found[r["id"]] = c.decrypt(registry[r["person_bidx"]], context="population.phone")
    return found


async def spend_consents(citizen_ids: list[str], *, template_id: str) -> tuple[set[str], set[str]]:
    """Citizens who may get a WeChat message now: (all of them, those whose one-time consent was just spent)."""
    subs = await Subscription.filter(citizen_id__in=citizen_ids, platform="wechat", template_id=template_id,
                                     banned=False)
    long_term = {s.citizen_id for s in subs if s.long_term}
    one_time = [s.id for s in subs if not s.long_term and s.one_time_remaining > 0]
    spent: set[str] = set()
    if one_time:
        # Spent in the database before the send, so two senders can never use one consent twice.
        spent = {r["citizen_id"] for r in await rawsql.fetch(
            "UPDATE subscription SET one_time_remaining = one_time_remaining - 1 "
            f"WHERE id IN {rawsql.in_list(one_time)} AND one_time_remaining > 0 RETURNING citizen_id", one_time)}
    return long_term | spent, spent


async def refund_consents(citizen_ids: list[str], *, template_id: str) -> None:
    """Give back one-time consents spent on messages that did not go out."""
    if citizen_ids:
        await rawsql.execute(
            "UPDATE subscription SET one_time_remaining = one_time_remaining + 1 WHERE platform = 'wechat' "
            f"AND template_id = ? AND long_term = ? AND citizen_id IN {rawsql.in_list(citizen_ids)}",
            [template_id, False, *citizen_ids])


async def forget_consents(citizen_ids: list[str], *, template_id: str) -> None:
    """The platform says the citizen holds no consent (43101): their one-time credits for it are gone. A long-term
    subscription stays until the citizen revokes it (reject or ban): it can be turned back on in WeChat's settings
    without us being told."""
    if citizen_ids:
        await Subscription.filter(citizen_id__in=citizen_ids, platform="wechat", template_id=template_id).update(
            one_time_remaining=0)


async def opt_outs(citizen_ids: list[str]) -> dict[str, set[str]]:
    """Citizen → the channels and topics (as `channel:x`, `topic:y`) they opted out of."""
    result: dict[str, set[str]] = {}
    for o in await NotificationOptOut.filter(citizen_id__in=citizen_ids):
        result.setdefault(o.citizen_id, set()).add(f"{o.kind}:{o.value}")
    return result


def next_channel(chain: list[str], after: str, refused: set[str]) -> str | None:
    """The citizen's next channel in the policy's order after `after`, skipping opted-out ones."""
    rest = chain[chain.index(after) + 1:] if after in chain else []
    return next((c for c in rest if f"channel:{c}" not in refused), None)


async def send(deps: Deps, channel: str, to: str | list[str], message, *, out_id: str | None = None) -> str | None:
    """Send one message (a campaign's Message or an event's: `kind`, `params()`, `page`) as its template renders it
    on `channel`, tagged `out_id` (the outbox row's id, or the id its rows share) where the platform reports sends by
    it (SMS, which also takes a list of numbers for one text); the platform's message id when it gives one.
    Raises MessageRejected or UpstreamUnavailable as the clients do, TemplateError when it cannot be rendered."""
    rendered = templates.of(deps).render(message.kind, channel, message.params())
    if channel == "wechat":
        answer = await deps.platforms["wechat"].send_message(to=to, template_id=rendered.template_id,
                                                            page=message.page, data=rendered.data)
        return str(answer.get("msgid", "")) or None
    if channel == "alipay":
        await deps.platforms["alipay"].send_message(to=to, template_id=rendered.template_id, page=message.page,
                                                   data=rendered.data)
        return None
    return await deps.platforms["sms"].send(phone=to, template_code=rendered.template_id, params=rendered.data,
                                            out_id=out_id)


async def attempt(deps: Deps, channel: str, to: str | list[str], message, *, out_id: str | None = None
                  ) -> tuple[str, str | None]:
    """One upstream call (tagged `out_id`, see send) → (outcome, reason): sent, refused (try the next channel),
    failed, transient (retry), quota, unknown (the request left and no answer came)."""
    try:
        await send(deps, channel, to, message, out_id=out_id)
        return "sent", None
    except MessageRejected as exc:
        if exc.reason == "quota":
            return "quota", exc.platform_code
        return ("refused" if exc.reason in FALL_THROUGH else "failed"), exc.reason
    except TemplateError as exc:
        log.error("message_not_rendered", channel=channel, kind=message.kind, error=str(exc))
        return "failed", "template_error"
    except UpstreamOutcomeUnknown:
        return "unknown", "upstream_timeout"
    except UpstreamUnavailable:
        return "transient", "upstream_unavailable"
    except Exception as exc:  # noqa: BLE001 - anything unclassified is treated as a passing failure, retried
        return "transient", type(exc).__name__[:40]
