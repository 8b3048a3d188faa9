"""`GET /api/v1/security/overview`: the security page's figures for operators' tooling
(an operator key whose role holds `security:read`); and, for anyone, the logs' note verifier
key at /.well-known/civicstack/audit-log-key (docs/audit-log.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from civicstack.kit.appservices import Services
from civicstack.kit.db import as_utc
from civicstack.kit.deps import DbSession, Operator
from civicstack.kit.transparency import LOG_PUBLISHING
from civicstack.security.site import overview_of

router = APIRouter(prefix="/security", tags=["security"])
public = APIRouter(tags=["security"])


@public.get("/.well-known/civicstack/audit-log-key", response_class=PlainTextResponse)
def audit_log_key(services: Services) -> str:
    """The key that signs the audit and exchange logs' checkpoints: `name+hash+key`."""
    return f"{services[LOG_PUBLISHING].verifier}\n"


@router.get("/overview")
def security_overview(session: DbSession, services: Services,
                      operator: Operator) -> dict[str, Any]:
    shown = overview_of(services, session, operator)
    return {
        "at": shown.at.isoformat(),
        "signals": [{"kind": s.kind.value, "observed": s.observed, "threshold": s.threshold,
                     "window_minutes": int(s.window.total_seconds() // 60) if s.window else None,
                     "alerting": s.alerting} for s in shown.signals],
        "open_alerts": [{"kind": a.kind, "raised_at": as_utc(a.raised_at).isoformat(),
                         "observed": a.observed, "threshold": a.threshold}
                        for a in shown.alerts if a.cleared_at is None],
        "chains": {log: {"intact": c.intact, "checked_at": as_utc(c.checked_at).isoformat(),
                         "entries_checked": c.entries_checked, "reason": c.reason}
                   for log, c in shown.chains.items()},
        "chains_needing_attention": shown.stale_chains,
        "limiters": [vars(limiter) for limiter in shown.limiters],
    }
