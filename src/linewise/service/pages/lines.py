"""The customer's pages: their lines, a line's "my limit" page, a drawdown previewed, borrowed and repaid.

Every figure comes from the functions the API calls (the same route functions where
they fit: a repayment is :func:`linewise.service.api.lines.repay`, which posts it and
asks for the decision its trigger calls for); this module parses forms and arranges
what comes back. A customer is never shown a PD, a score, a risk grade or a feature.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from linewise.errors import InputError
from linewise.inputs import parse_key
from linewise.ledger.bureau_file import last_reported_month
from linewise.ledger.dpd import dpd_as_of
from linewise.ledger.posting import due_amount
from linewise.ledger.service import read_state, statement
from linewise.ledger.store import read_snapshot
from linewise.ledger.store.customers import customer_accounts
from linewise.money import parse_amount
from linewise.review.preview import preview_drawdown
from linewise.service.api import bureau, decisions, lines
from linewise.service.deps import (
    STAFF,
    AccountAccess,
    CurrentUser,
    PostingAccess,
    Services,
    ServicesDep,
    account_access,
)
from linewise.service.errors import error_out, status_of
from linewise.service.pages.csrf import checked_form
from linewise.service.pages.reads import limit_changes
from linewise.service.pages.render import page_lang, render
from linewise.service.pages.session import page_path
from linewise.service.pages.views import history_cells, history_counts, notice_blocks, on_time_record
from linewise.service.schemas.lines import DrawdownIn, RepaymentIn
from linewise.service.views import line_out, statement_out

__all__ = ["router"]

router = APIRouter()

# A customer has a few lines; a list longer than this is no customer's.
LINES_SHOWN = 20
# The longest term a form may name (the API's own bound); the product says which it offers.
TERM_MONTHS_MAX = 600

Reader = Annotated[AccountAccess, Depends(account_access("customer", *STAFF))]
Mover = Annotated[AccountAccess, Depends(account_access("customer", "admin"))]
Form = Annotated[FormData, Depends(checked_form)]


@router.get("/lines", name="my_lines", response_class=HTMLResponse)
def my_lines(request: Request, who: CurrentUser, services: ServicesDep) -> Response:
    """A customer's lines (straight to the line when there is one); staff go to the console."""
    lang = page_lang(request)
    if not who.is_customer:
        return RedirectResponse(f"{page_path(request, 'console')}?lang={lang}", status_code=303)
    with read_snapshot(services.engine) as conn:
        accounts = customer_accounts(conn, who.customer_id or "")[:LINES_SHOWN]
    if len(accounts) == 1:
        return RedirectResponse(f"{page_path(request, 'line', account_id=accounts[0])}?lang={lang}", status_code=303)
    today = services.today()
    shown = [line_out(state, dpd_as_of(state, today)) for state in (read_state(services.engine, a) for a in accounts)]
    return render(request, "lines.html", who=who, lines=shown)


def _line_context(request: Request, access: AccountAccess, services: Services) -> dict[str, Any]:
    """What the "my limit" page shows of the line, each part from the function the API's route calls."""
    lang = page_lang(request)
    state, today = access.state, services.today()
    statement_now = statement_out(statement(services.engine, access.account_id, today))
    latest = decisions.list_decisions(access, services, lang).items
    month = last_reported_month(today)
    try:
        report = bureau.credit_report(access, services, month=None).records
    except InputError as exc:
        if exc.code != "as_of_before_line_opened":
            raise
        report = []  # opened this month: nothing reported yet
    return {
        "line": line_out(state, dpd_as_of(state, today)),
        "record": on_time_record(statement_now),
        "decision": latest[0] if latest else None,
        "notice": notice_blocks(latest[0].notice, latest[0].recourse) if latest else [],
        "changes": limit_changes(services.engine, access.account_id),
        "report": [
            {**r, "cells": history_cells(str(r["history"]), month), "counts": history_counts(str(r["history"]))}
            for r in report
        ],
        "report_month": f"{month:%Y-%m}",
        "due_now": due_amount(state, today),
        "payoff": statement_now.payoff,
        "terms": services.product.terms_months,
        "drawdown_min": services.product.drawdown_min,
        "drawdown_max": services.product.drawdown_max,
        "may_move": access.who.is_customer or access.who.role == "admin",
        "key": uuid.uuid4().hex,
        "problem": None,
        "problem_at": None,
        "entered": {},
    }


def _line_page(request: Request, access: AccountAccess, services: Services, **changes: Any) -> Response:
    status = changes.pop("status", 200)
    context = {**_line_context(request, access, services), **changes}
    return render(request, "line.html", who=access.who, status=status, **context)


@router.get("/lines/{account_id}", name="line", response_class=HTMLResponse)
def line_page(request: Request, access: Reader, services: ServicesDep) -> Response:
    """My limit: the line now, the latest decision and why, the limit's history, the credit report, the forms."""
    return _line_page(request, access, services)


def _term(text: object) -> int:
    shown = str(text or "")
    if not shown.isdigit() or not 1 <= int(shown) <= TERM_MONTHS_MAX:
        raise InputError.for_field(
            "request_invalid",
            where="term",
            field="term",
            rule=f"a whole number of months from 1 to {TERM_MONTHS_MAX}",
            value=shown[:16],
        )
    return int(shown)


def _amount(text: object, currency: str) -> int:
    return parse_amount(str(text or "").strip()[:64], currency, field="amount")


def _key(form: FormData) -> str:
    """The form's idempotency key (given when the page was rendered): sending it twice posts once."""
    key = form.get("key")
    return uuid.uuid4().hex if not isinstance(key, str) or not key else parse_key(key, "key")


def _refused(
    request: Request, access: AccountAccess, services: Services, at: str, exc: InputError, **entered: object
) -> Response:
    """The line's page again, with the refusal beside the form it came from and what was typed kept."""
    return _line_page(
        request,
        access,
        services,
        status=status_of(exc),
        problem=error_out(exc),
        problem_at=at,
        entered={k: str(v or "")[:64] for k, v in entered.items()},
    )


@router.get("/lines/{account_id}/preview", name="preview", response_class=HTMLResponse)
def preview(
    request: Request,
    access: Mover,
    services: ServicesDep,
    amount: Annotated[str | None, Query(max_length=64)] = None,
    term: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """Before borrowing: the cost, the schedule, the line after and the next review, as ``linewise preview`` tells them."""
    lang = page_lang(request)
    try:
        shown = preview_drawdown(
            services.engine,
            access.account_id,
            services.decider,
            services.product,
            amount=_amount(amount, access.state.line.currency),
            term_months=_term(term),
            as_of=services.today(),
        )
    except InputError as exc:
        return _refused(request, access, services, "preview", exc, amount=amount, term=term)
    return render(
        request,
        "preview.html",
        who=access.who,
        account_id=access.account_id,
        shown=shown,
        text_lines=shown.texts[lang].split("\n"),
        amount_text=(amount or "").strip(),
        key=uuid.uuid4().hex,
    )


@router.post("/lines/{account_id}/drawdowns", name="draw", response_class=HTMLResponse)
def draw(form: Form, request: Request, access: Mover, services: ServicesDep) -> Response:
    """Borrow: posted as ``POST /accounts/{account_id}/drawdowns`` posts it."""
    try:
        body = DrawdownIn(
            amount=_amount(form.get("amount"), access.state.line.currency), term_months=_term(form.get("term"))
        )
        posted = lines.draw(body, access, services, _key(form))
    except InputError as exc:
        return _refused(request, access, services, "preview", exc, amount=form.get("amount"), term=form.get("term"))
    back = page_path(request, "line", account_id=access.account_id)
    return render(request, "posted.html", who=access.who, kind="drawdown", posted=posted, follow=None, switch_to=back)


@router.post("/lines/{account_id}/repayments", name="repay", response_class=HTMLResponse)
def repay(form: Form, request: Request, access: Mover, services: ServicesDep) -> Response:
    """Repay: posted as ``POST /accounts/{account_id}/repayments`` posts it, then the decision the repayment calls for."""
    lang = page_lang(request)
    try:
        body = RepaymentIn(amount=_amount(form.get("amount"), access.state.line.currency))
        posted = lines.repay(body, PostingAccess(access.who, access.account_id), services, _key(form), lang)
    except InputError as exc:
        return _refused(request, access, services, "repay", exc, repay_amount=form.get("amount"))
    back = page_path(request, "line", account_id=access.account_id)
    return render(
        request, "posted.html", who=access.who, kind="repayment", posted=posted, follow=posted.follow_up, switch_to=back
    )
