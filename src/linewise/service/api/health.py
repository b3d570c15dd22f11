"""``GET /healthz``: the process answers, and which linewise it runs; nothing else is asked of it."""

from __future__ import annotations

from fastapi import APIRouter

import linewise
from linewise.service.schemas.common import HealthOut

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz")
def health() -> HealthOut:
    """The service is up: for load balancers and process supervisors (no sign-in, no database)."""
    return HealthOut(status="ok", version=linewise.__version__)
