"""Background jobs of notifications: none of its own. A campaign's senders (notifications.sender) are queued and
started by the campaigns' owner, api/policies/jobs.py, which hands them what they need of the campaign."""

from __future__ import annotations

from api.core.jobs import Cron, Job

JOBS: list[Job] = []
CRON: list[Cron] = []
