"""Rows the dashboards count, written straight into the real tables (as the workflow would have left them), and the
staff who read the dashboards."""

from __future__ import annotations

import datetime as dt
import secrets
from zoneinfo import ZoneInfo

from api.applications.models import Application, Rating, Rectification
from api.certificates.models import Certificate
from api.codes.models import CodeScan
from notifications.models import OutboxDelivery
from tests.applications.conftest import staff_headers

BEIJING = ZoneInfo("Asia/Shanghai")
DASHBOARDS = ("applications", "sla", "ratings", "certificates", "scans", "campaigns", "messages")


def beijing(day: str, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A Beijing wall-clock time on `day` (YYYY-MM-DD)."""
    return dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=BEIJING)


async def case(*, dept: str | None = "gongan", status: str = "submitted", at: dt.datetime | None = None,
               sla_state: str = "on_track", due: dt.date | None = None, cross_province: bool = False,
               parent_id: str | None = None) -> Application:
    """A case of `dept` (None: a bundle's parent) in `status`, submitted at `at`."""
    return await Application.create(
        citizen_id=f"cit_{secrets.token_hex(8)}", submitted_by="cit_x", item_code="T00000000001", title="测试居住登记",
        dept=dept, status=status, form_enc="", delivery_method="pickup", applicant_region="430104",
        handling_region="430000", receiving_region="430000", cross_province=cross_province, promised_days=5,
        due_date=due or dt.date(2026, 3, 10), sla_state=sla_state, parent_id=parent_id,
        **({"created_at": at} if at else {}))


async def rating(application: Application, score: int, at: dt.datetime) -> Rating:
    """好差评 of an application, given at `at`."""
    return await Rating.create(application_id=application.id, citizen_id=application.citizen_id, score=score,
                               created_at=at)


async def rectification(application: Application, *, dept: str, status: str = "open",
                        due: dt.date = dt.date(2099, 1, 1)) -> Rectification:
    """A rectification of `dept` for the application's rating."""
    return await Rectification.create(rating_id=f"rat_{secrets.token_hex(8)}", application_id=application.id,
                                      dept=dept, status=status, due_date=due)


async def certificate(type_code: str, dept: str, *, issued_at: dt.datetime | None,
                      status: str = "issued") -> Certificate:
    """A certificate request of this type, issued at `issued_at` (None: not issued)."""
    return await Certificate.create(
        citizen_id=f"cit_{secrets.token_hex(8)}", requested_by="cit_x", type_code=type_code, dept=dept, purpose="就业",
        status=status, serial=f"S{secrets.token_hex(8).upper()}", verify_code="abcd", issued_at=issued_at)


async def scans(scene: str, at: dt.datetime, count: int = 1, *, outcome: str = "accepted") -> None:
    """`count` scans of `scene` at `at`."""
    await CodeScan.bulk_create([CodeScan(terminal_id="trm_x", scene=scene, outcome=outcome, source="online",
                                         scanned_at=at) for _ in range(count)])


async def staff(client, role: str, depts=()) -> dict:
    """The Authorization header of the session's staff member with this one role and these departments."""
    return await staff_headers(client, roles=(role,), depts=tuple(depts))


async def dashboard(client, name: str, headers: dict, expect: int = 200, **query) -> dict:
    """GET /api/v1/admin/dashboards/{name}; the answer's body."""
    r = await client.get(f"/api/v1/admin/dashboards/{name}", params=query, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


async def messages(channel: str, status: str, at: dt.datetime, count: int = 1, *, reason: str | None = None,
                   citizen_id: str | None = "cit_x") -> None:
    """`count` event messages (no campaign) on `channel` that ended `status`, written at `at`; only ended statuses,
    since the live server's event lane takes `queued` rows."""
    await OutboxDelivery.bulk_create([OutboxDelivery(
        dedupe_key=f"evt:{secrets.token_hex(8)}", citizen_id=citizen_id, channel=channel, topic="application_status",
        status=status, reason=reason, created_at=at) for _ in range(count)])
