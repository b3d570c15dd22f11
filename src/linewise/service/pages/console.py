"""The analyst console (analysts and admins): the portfolio at a glance, a decision's full audit, strategy diffs.

The audit is the decision as logged (its features, versions, reasons and recourse,
told by :func:`linewise.service.views.decision_out` with the analysis) and its replay
(:func:`linewise.service.api.decisions.replay`, the API's own route); the diff is
:func:`linewise.strategy.diff.describe_changes` between two texts the log stored.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from linewise.errors import InputError, LinewiseError
from linewise.explain.formatting import Language, amount
from linewise.inputs import parse_id
from linewise.ledger.store.decision_log import SqlDecisionLog, StoredRun
from linewise.service.api import decisions
from linewise.service.deps import ServicesDep, StaffUser
from linewise.service.errors import error_out
from linewise.service.pages.charts import bar_chart, column_chart
from linewise.service.pages.reads import portfolio, recent_decisions, stored_strategies, strategy_text
from linewise.service.pages.render import page_lang, render
from linewise.service.pages.texts import translator
from linewise.service.pages.views import feature_rows
from linewise.service.reads import checked_run_size, position_in_run
from linewise.service.views import decision_out
from linewise.strategy import read_strategy
from linewise.strategy.diff import describe_changes

__all__ = ["router"]

router = APIRouter(prefix="/console")

_ACTIONS = ("increase", "hold", "decrease", "freeze")
RUN_MAX = decisions.RUN_MAX


def _month_label(month: str, lang: Language) -> str:
    """A month (YYYY-MM) as short as a column's label can be: ``3月`` / ``Mar`` (the table has the year)."""
    number = int(month[5:])
    return f"{number}月" if lang == "zh" else date(2000, number, 1).strftime("%b")


@router.get("", name="console", response_class=HTMLResponse)
def console(
    request: Request,
    who: StaffUser,
    services: ServicesDep,
    account: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The portfolio: lines by status, the latest decisions' actions and risk grades, limit added by month."""
    lang = page_lang(request)
    t = translator(lang)
    account_id = parse_id(account, "account") if account else None
    book = portfolio(services.engine, services.today())
    actions = [(t(f"action_{a}"), book.actions.get(a, 0), str(book.actions.get(a, 0))) for a in _ACTIONS]
    grades = [(grade, count, str(count)) for grade, count in book.grades.items()]
    added = {
        currency: column_chart(
            [(_month_label(month, lang), value, amount(value, currency, lang)) for month, value in months]
        )
        for currency, months in book.limit_added.items()
    }
    return render(
        request,
        "console.html",
        who=who,
        book=book,
        action_chart=bar_chart(actions),
        grade_chart=bar_chart(grades),
        added_charts=added,
        added_tables=book.limit_added,
        recent=recent_decisions(services.engine, account_id),
        account=account_id or "",
    )


def _logged(services: ServicesDep, run: int, account_id: str) -> StoredRun:
    """The decision of ``account_id`` in run ``run``, as the log holds it (a run of one).

    A page reads a whole run, so runs of more than REPLAY_ACCOUNTS_MAX accounts are
    refused as a replay over HTTP is (``run_too_large``), and the command line named.
    """
    checked_run_size(services.engine, run, most=decisions.REPLAY_ACCOUNTS_MAX, use="audit in a page")
    stored = SqlDecisionLog(services.engine).load_run(run)
    return stored.one(position_in_run(stored.decisions["account_id"], run, account_id))


def _audit_context(services: ServicesDep, run: int, account_id: str, lang: Language) -> dict[str, Any]:
    """The decision as staff read it (its analysis included) and its replay, or why the replay could not be made."""
    one = _logged(services, run, account_id)
    view = decision_out(one, lang, analyst=True, strategy=services.decider.strategy)
    assert view.analysis is not None
    try:
        replayed, replay_problem = decisions.replay(run, account_id, services), None
    except LinewiseError as exc:
        replayed, replay_problem = None, error_out(exc)
    return {
        "decision": view,
        "analysis": view.analysis,
        "features": feature_rows(view.analysis.features, view.currency, lang),
        "context": {str(k): v for k, v in one.context.iloc[0].items() if k != "history"},
        "replayed": replayed,
        "replay_problem": replay_problem,
    }


@router.get("/decisions/{run}/{account_id}", name="audit", response_class=HTMLResponse)
def audit(
    request: Request,
    who: StaffUser,
    services: ServicesDep,
    run: Annotated[int, Path(ge=1, le=RUN_MAX)],
    account_id: Annotated[str, Path(max_length=64)],
) -> Response:
    """A decision's full audit: features, strategy and model versions, reasons, recourse, and its replay."""
    lang = page_lang(request)
    context = _audit_context(services, run, parse_id(account_id, "account_id"), lang)
    return render(request, "audit.html", who=who, run=run, account_id=account_id, **context)


@router.get("/strategies", name="strategies", response_class=HTMLResponse)
def strategies(
    request: Request,
    who: StaffUser,
    services: ServicesDep,
    old: Annotated[str | None, Query(max_length=128)] = None,
    new: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    """What changed between two strategies the decision log stored (``linewise strategy diff`` on their texts)."""
    stored = stored_strategies(services.engine)
    refs = [ref for ref, _ in stored]
    old = old or (refs[1] if len(refs) > 1 else None)
    new = new or (refs[0] if refs else None)
    changes: list[str] | None = None
    if old is not None and new is not None:
        texts = {}
        for field, ref in (("old", old), ("new", new)):
            text = strategy_text(services.engine, ref)
            if text is None:
                raise InputError.for_field(
                    "request_invalid",
                    where=field,
                    field=field,
                    rule="a strategy the decision log holds",
                    value=ref,
                )
            texts[field] = text
        changes = describe_changes(read_strategy(texts["old"], old).spec, read_strategy(texts["new"], new).spec)
    return render(request, "strategies.html", who=who, stored=stored, old=old, new=new, changes=changes)
