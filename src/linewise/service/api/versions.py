"""Strategy and model versions: listed and compared by staff; stored and activated by admins, audited.

Each route calls what ``linewise strategy``/``model`` call (:mod:`linewise.review.versions`).
An activation changes the service's decisions from its next look at the database on
(at most ``LINEWISE_DECIDER_CHECK_SECONDS`` later), without a restart.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from linewise.ledger.store.versions import LIST_MAX, Activation, StoredVersion
from linewise.review.versions import (
    VersionEntry,
    activate_version,
    diff_stored_strategies,
    list_stored,
    store_strategy_text,
)
from linewise.service.deps import STAFF, AdminUser, Services, ServicesDep, role_in
from linewise.service.errors import error_out
from linewise.service.schemas.common import REF_PATTERN, error_responses
from linewise.service.schemas.versions import (
    ActivateIn,
    ActivationOut,
    StoredOut,
    StrategyDiffOut,
    StrategyIn,
    VersionListOut,
    VersionOut,
)

__all__ = ["router"]

router = APIRouter(tags=["versions"])

_ERRORS = error_responses(401, 403, 404, 409, 422)
_STAFF = [Depends(role_in(*STAFF))]

Ref = Annotated[
    str, Path(max_length=128, description="The version's id@version.", json_schema_extra={"pattern": REF_PATTERN})
]
_REF_SCHEMA: dict[str, Any] = {"pattern": REF_PATTERN}
Limit = Annotated[int, Query(ge=1, le=LIST_MAX)]
Offset = Annotated[int, Query(ge=0, le=2**31)]


@router.get("/strategies", responses=_ERRORS, dependencies=_STAFF)
def list_strategies(services: ServicesDep, limit: Limit = 50, offset: Offset = 0) -> VersionListOut:
    """The stored strategies, newest first: which is active, who activated each when, which the service uses (staff)."""
    return _listed(services, "strategy", limit, offset)


@router.post("/strategies", responses=_ERRORS, status_code=201)
def store_strategy(body: StrategyIn, who: AdminUser, services: ServicesDep, response: Response) -> StoredOut:
    """Store a strategy from its YAML text, checked first (422 naming each problem's field and line) (admin; audited).

    The same text stored again writes nothing (200); another text under a stored
    id@version is refused (409).
    """
    version, created = store_strategy_text(
        services.engine, body.text, source="body.text", by=who.username, now=services.now()
    )
    if not created:
        response.status_code = 200
    return _stored_out(version, created=created)


@router.get("/strategies/diff", responses=_ERRORS, dependencies=_STAFF)
def diff_strategies(
    services: ServicesDep,
    old: Annotated[
        str, Query(max_length=128, description="The stored strategy in force.", json_schema_extra=_REF_SCHEMA)
    ],
    new: Annotated[
        str, Query(max_length=128, description="The stored strategy proposed.", json_schema_extra=_REF_SCHEMA)
    ],
) -> StrategyDiffOut:
    """What changed from one stored strategy to another, as `linewise strategy diff` says it (staff)."""
    diff = diff_stored_strategies(services.engine, old, new)
    return StrategyDiffOut(old=diff.old, new=diff.new, changes=diff.changes)


@router.post("/strategies/{ref}/activate", responses=_ERRORS, status_code=201)
def activate_strategy(ref: Ref, body: ActivateIn, who: AdminUser, services: ServicesDep) -> ActivationOut:
    """Make a stored strategy the one decisions are made with, with a note (admin; audited)."""
    made = activate_version(services.engine, "strategy", ref, by=who.username, note=body.note, now=services.now())
    return _activation_out(made)


@router.get("/models", responses=_ERRORS, dependencies=_STAFF)
def list_models(services: ServicesDep, limit: Limit = 50, offset: Offset = 0) -> VersionListOut:
    """The stored models (`linewise model store`), newest first, as the strategies are listed (staff)."""
    return _listed(services, "model", limit, offset)


@router.post("/models/{ref}/activate", responses=_ERRORS, status_code=201)
def activate_model(ref: Ref, body: ActivateIn, who: AdminUser, services: ServicesDep) -> ActivationOut:
    """Make a stored model the one decisions are made with, with a note (admin; audited)."""
    made = activate_version(services.engine, "model", ref, by=who.username, note=body.note, now=services.now())
    return _activation_out(made)


def _listed(services: Services, kind: str, limit: int, offset: int) -> VersionListOut:
    listed = list_stored(services.engine, kind, limit=limit, offset=offset)
    decider = services.decider
    in_use = decider.strategy.loaded.spec.ref if kind == "strategy" else decider.model_ref
    failed = None if services.live is None else services.live.reload_error
    return VersionListOut(
        kind=kind,
        active=None if listed.active is None else _activation_out(listed.active),
        in_use=in_use,
        reload_error=None if failed is None else error_out(failed),
        items=[_version_out(entry) for entry in listed.items],
        limit=limit,
        offset=offset,
        total=listed.total,
    )


def _version_out(entry: VersionEntry) -> VersionOut:
    version = entry.version
    return VersionOut(
        ref=version.ref,
        sha256=version.sha256,
        currency=entry.currency,
        model_kind=version.model_kind,
        stored_at=version.stored_at.isoformat(),
        stored_by=version.stored_by,
        active=entry.is_active,
        last_activation=None if entry.last_activation is None else _activation_out(entry.last_activation),
    )


def _activation_out(made: Activation) -> ActivationOut:
    return ActivationOut(
        id=made.id,
        kind=made.kind,
        ref=made.ref,
        activated_by=made.activated_by,
        activated_at=made.activated_at.isoformat(),
        note=made.note,
    )


def _stored_out(version: StoredVersion, *, created: bool) -> StoredOut:
    return StoredOut(
        kind=version.kind,
        ref=version.ref,
        sha256=version.sha256,
        stored_at=version.stored_at.isoformat(),
        stored_by=version.stored_by,
        created=created,
    )
