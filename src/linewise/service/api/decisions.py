"""Decisions: a line decided now (staff), a customer asking for more, a line's decisions, a replay."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from linewise.ledger.store.decision_log import SqlDecisionLog, account_decisions
from linewise.ledger.store.users import write_audit
from linewise.review.apply import decision_ref
from linewise.review.deciders import stored_model
from linewise.review.runs import replay_run
from linewise.service.deciding import decide_now
from linewise.service.deps import STAFF, AccountAccess, Lang, ServicesDep, account_access, role_in
from linewise.service.errors import RequestThrottledError
from linewise.service.reads import checked_run_size, position_in_run, run_model_ref
from linewise.service.schemas.common import ID_PATTERN, error_responses
from linewise.service.schemas.decisions import (
    DecideIn,
    DecideOut,
    DecisionListOut,
    DifferenceOut,
    ReplayOut,
)
from linewise.service.views import decision_out

__all__ = ["router"]

router = APIRouter(tags=["decisions"])

_ERRORS = error_responses(401, 403, 404, 409, 422)
_REQUEST_ERRORS = error_responses(401, 403, 404, 409, 422, 429)
# A replay asked over HTTP decides the whole run again within the request: runs larger
# than this are replayed with `linewise decisions replay`.
REPLAY_ACCOUNTS_MAX = 1_000
RUN_MAX = 2**63 - 1
# Each decision of a page is told in words (its notice): a page is at most this many.
DECISIONS_PAGE_MAX = 50

Reader = Annotated[AccountAccess, Depends(account_access("customer", *STAFF))]
Staff = Annotated[AccountAccess, Depends(account_access(*STAFF))]
Customer = Annotated[AccountAccess, Depends(account_access("customer"))]


@router.post("/accounts/{account_id}/decide", responses=_ERRORS)
def decide(body: DecideIn, access: Staff, services: ServicesDep, lang: Lang) -> DecideOut:
    """Decide the line now by a trigger, logged; applied to the line when asked (staff; an applied one is audited)."""
    made = decide_now(
        services,
        access.account_id,
        trigger=body.trigger,
        apply=body.apply,
        lang=lang,
        analyst=True,
        recourse=body.recourse,
    )
    if body.apply and made.decision is not None:
        decision = made.decision
        write_audit(
            services.engine,
            actor=access.who.username,
            action="decision_applied",
            target=f"account:{access.account_id}",
            at=services.now(),
            ref=decision_ref(decision.run, access.account_id),
            detail={
                "trigger": decision.trigger,
                "action": decision.action,
                "limits": [decision.current_limit, decision.new_limit],
                "outcome": None if decision.outcome is None else decision.outcome.model_dump(),
            },
        )
    return made


@router.post("/accounts/{account_id}/limit-requests", responses=_REQUEST_ERRORS)
def ask_for_more(access: Customer, services: ServicesDep, lang: Lang) -> DecideOut:
    """The line's customer asks for a higher limit: decided now by the request trigger and applied.

    The strategy's request rules hold: how many requests count within its window, and
    what a request may raise. A line that asked too often within the service's own
    window is refused (429, ``request_rate_limited``) before anything is decided.
    """
    if services.requests is not None:
        wait = services.requests.take(access.account_id)
        if wait:
            limiter = services.requests
            raise RequestThrottledError(access.account_id, limiter.attempts_max, int(limiter.window_s), wait)
    return decide_now(services, access.account_id, trigger="request", apply=True, lang=lang, analyst=False)


@router.get("/accounts/{account_id}/decisions", responses=_ERRORS)
def list_decisions(
    access: Reader,
    services: ServicesDep,
    lang: Lang,
    limit: Annotated[int, Query(ge=1, le=DECISIONS_PAGE_MAX)] = 10,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> DecisionListOut:
    """The line's logged decisions, newest first, told in ``lang``: to its customer without the model's figures.

    Each is told with the strategy it was made by (its limit changes, reasons and what
    would raise the line as they were then).
    """
    page, total = account_decisions(services.engine, access.account_id, limit=limit, offset=offset)
    analyst, strategy = not access.who.is_customer, services.decider.strategy
    items = [decision_out(stored, lang, analyst=analyst, strategy=strategy) for stored in page]
    return DecisionListOut(account_id=access.account_id, items=items, limit=limit, offset=offset, total=total)


@router.post("/decisions/{run}/{account_id}/replay", responses=_ERRORS, dependencies=[Depends(role_in(*STAFF))])
def replay(
    run: Annotated[int, Path(ge=1, le=RUN_MAX, description="The logged run.")],
    account_id: Annotated[
        str,
        Path(max_length=64, description="An account decided in the run.", json_schema_extra={"pattern": ID_PATTERN}),
    ],
    services: ServicesDep,
) -> ReplayOut:
    """Decide a logged run again from what it stored; the account's differences (staff).

    The run is replayed with the model it was decided with: the service's own, or the
    version stored in the database (``version_not_found`` when it never was stored).
    """
    checked_run_size(services.engine, run, most=REPLAY_ACCOUNTS_MAX, use="replay over HTTP")
    decider = services.decider
    model, model_ref, source = decider.model, decider.model_ref, "service model"
    decided_with = run_model_ref(services.engine, run)
    if decided_with is not None and decided_with != model_ref:
        # A run decided before another model was activated replays with its own, when stored.
        model, manifest = stored_model(services.engine, decided_with)
        model_ref, source = str(manifest["model"]), f"stored model {decided_with}"
    replayed = replay_run(SqlDecisionLog(services.engine), run, model=model, model_ref=model_ref, model_source=source)
    position_in_run(replayed.run.decisions["account_id"], run, account_id)
    differences = replayed.differences
    mine = differences.loc[differences["account_id"].astype(str) == account_id] if len(differences) else differences
    return ReplayOut(
        run=run,
        account_id=account_id,
        model=replayed.run.model_ref,
        strategy=replayed.run.strategy_ref,
        same=len(mine) == 0,
        differences=[
            DifferenceOut(column=str(d.column), stored=str(d.stored), replayed=str(d.replayed))
            for d in mine.itertuples(index=False)
        ],
    )
