"""The customer's pages: their own lines only, the decision in plain words without the model's figures,
a drawdown previewed, borrowed and repaid through the API's own functions, in zh and en."""

from __future__ import annotations

import re

import pytest
from tests.ledger.common import snapshot
from tests.service.conftest import TODAY, every_route
from tests.service.test_pages_session import Pages, key_of

from linewise.features import REGISTRY
from linewise.ledger.posting import due_amount
from linewise.ledger.service import read_state
from linewise.money import format_amount
from linewise.service.pages import PAGES_PREFIX

# What a customer's page never holds, in either language (a grade is only ever shown with its label).
HIDDEN_WORDS = ("PD", "score", "Score", "评分", "risk grade", "Risk grade", "风险等级", "probability", "违约概率")
# A path parameter that names something a customer may own (as tests/service/test_ownership.py reads them).
ID_PARAMETER = re.compile(r"\{[a-z_]*(id|account|line|loan|run|customer)[a-z_]*\}")
# Each page route with an id: (method, path) -> (form, admits customers).
PAGE_CALLS: dict[tuple[str, str], tuple[dict | None, bool]] = {
    ("GET", "/lines/{account_id}"): (None, True),
    ("GET", "/lines/{account_id}/preview"): (None, True),
    ("POST", "/lines/{account_id}/drawdowns"): ({"amount": "1000", "term": "6"}, True),
    ("POST", "/lines/{account_id}/repayments"): ({"amount": "100"}, True),
    ("GET", "/console/decisions/{run}/{account_id}"): (None, False),
}


def freeze_a1(api, lang: str = "zh") -> dict:
    made = api.call("POST", f"/accounts/A1/decide?lang={lang}", "ann", json={"apply": True})
    assert made.status_code == 200, made.json()
    return made.json()["decision"]


def hold_a2(api) -> dict:
    made = api.call("POST", "/accounts/A2/decide", "ann", json={"apply": True})
    assert made.status_code == 200, made.json()
    return made.json()["decision"]


def visible_text(html: str) -> str:
    """The page's words (tags and attribute values dropped)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def assert_customer_safe(html: str) -> None:
    text = visible_text(html)
    for word in HIDDEN_WORDS:
        assert word not in text, word
    for feature in REGISTRY:
        assert feature not in html, feature


@pytest.fixture
def cat(api) -> Pages:
    pages = Pages(api.client.app)
    pages.sign_in("cat")
    return pages


def page_routes(app) -> list[tuple[str, str]]:
    pages_app = next(route.app for route in app.routes if getattr(route, "path", None) == PAGES_PREFIX)
    return [(method, path) for method, path in every_route(pages_app) if ID_PARAMETER.search(path)]


def test_every_page_route_with_an_id_is_known_here(api):
    assert set(page_routes(api.client.app)) == set(PAGE_CALLS)


def test_another_customers_line_is_a_404_page_like_an_unknown_one_and_nothing_is_written(api, cat):
    before = snapshot(api.engine)
    for (method, path), (form, admits_customers) in PAGE_CALLS.items():
        answers = []
        for ids in ({"{account_id}": "A2", "{run}": "1"}, {"{account_id}": "NOPE", "{run}": "1"}):
            url = PAGES_PREFIX + path.replace("{account_id}", ids["{account_id}"]).replace("{run}", ids["{run}"])
            if method == "GET":
                answers.append(cat.get(url, params={"amount": "1000", "term": "6"}))
            else:
                answers.append(cat.post(url, form or {}, token_from="/web/lines/A1"))
        theirs, unknown = answers
        expected = 404 if admits_customers else 403
        assert theirs.status_code == unknown.status_code == expected, (method, path, theirs.text[:300])
        assert theirs.text.count("account_not_found") == unknown.text.count("account_not_found")
        assert 'lang="zh-CN"' in theirs.text, "a browser is told on a page"
    assert snapshot(api.engine) == before


def test_a_customer_reaches_each_page_of_its_own_line(api, cat):
    assert cat.get("/web/lines/A1").status_code == 200
    assert cat.get("/web/lines").headers["location"] == "/web/lines/A1?lang=zh"
    assert cat.get("/web/lines/A1/preview", params={"amount": "1000", "term": "6"}).status_code in (200, 422)
    assert cat.get("/web/console").status_code == 403


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_my_limit_page_tells_the_decision_why_and_what_would_raise_it_without_the_models_figures(api, cat, lang):
    decision = api.call("POST", f"/accounts/A1/decide?lang={lang}", "ann", json={"apply": True}).json()["decision"]
    page = cat.get(f"/web/lines/A1?lang={lang}")
    assert page.status_code == 200
    assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in page.text
    for reason in decision["reasons"]:
        assert reason in page.text
    assert decision["recourse"] in page.text
    assert decision["notice"].split("\n")[0] in page.text
    assert_customer_safe(page.text)
    limit = format_amount(decision["new_limit"], "CNY").split(".")[0]
    assert limit in page.text


def test_the_page_shows_the_limits_history_the_on_time_record_and_the_credit_report(api, cat):
    page = cat.get("/web/lines/A1?lang=en").text
    assert "Line opened" in page and "CNY 20,000" in page
    assert "4 of 6 instalments due so far paid on time." in page, "July to October paid, November and December not"
    assert "Loan A1/1" in page and "Line A1" in page
    history = re.findall(r'<ol class="history" aria-hidden="true">(.*?)</ol>', page, re.S)
    assert len(history) == 2 and all(len(re.findall(r"<li", h)) == 24 for h in history)
    assert "N: on time, nothing overdue" in page and "1\u20137: months late" in page


def test_a_repayment_from_the_page_calls_the_decision_the_api_does_and_unfreezes_the_line(api, cat):
    freeze_a1(api)
    owed = due_amount(read_state(api.engine, "A1"), TODAY)
    page = cat.get("/web/lines/A1?lang=en")
    shown = format_amount(owed, "CNY", grouping=False)
    assert f'value="{shown}"' in page.text, "the repayment form offers what is due"
    paid = cat.post(
        "/web/lines/A1/repayments?lang=en", {"amount": shown, "key": key_of(page.text)}, token_from="/web/lines/A1"
    )
    assert paid.status_code == 200, paid.text[:500]
    assert "Your line is active again" in paid.text
    assert read_state(api.engine, "A1").line.status.value == "active"
    assert_customer_safe(paid.text)


def test_a_drawdown_previewed_then_borrowed_posts_once_even_when_the_form_is_sent_twice(api):
    cody = Pages(api.client.app)
    cody.sign_in("cody")
    hold_a2(api)
    before, unpreviewed = read_state(api.engine, "A2"), snapshot(api.engine)
    preview = cody.get("/web/lines/A2/preview", params={"amount": "3000", "term": "6", "lang": "en"})
    assert preview.status_code == 200, preview.text[:500]
    assert "Borrowing CNY 3,000 over 6 months" in preview.text and "Repayment schedule" in preview.text
    assert len(re.findall(r"<tr><td>\d+</td>", preview.text)) == 6
    assert_customer_safe(preview.text)
    assert snapshot(api.engine) == unpreviewed, "a preview writes nothing"
    form = {"amount": "3000", "term": "6", "key": key_of(preview.text)}
    token = re.search(r'name="csrf_token" value="([^"]+)"', preview.text)[1]
    first = cody.post("/web/lines/A2/drawdowns?lang=en", form, token=token)
    again = cody.post("/web/lines/A2/drawdowns?lang=en", form, token=token)
    assert first.status_code == again.status_code == 200, first.text[:500]
    assert "Money borrowed" in first.text and "nothing was posted twice" in again.text
    after = read_state(api.engine, "A2")
    assert len(after.drawdowns) == len(before.drawdowns) + 1
    assert after.available_credit == before.available_credit - 300_000


@pytest.mark.parametrize(
    ("amount", "code"),
    [("12,00", "amount_not_a_number"), ("0", "amount_must_be_positive"), ("1.001", "amount_has_too_many_decimals")],
)
def test_a_bad_amount_is_refused_beside_its_form_naming_the_field_and_nothing_is_written(api, cat, amount, code):
    before = snapshot(api.engine)
    token = cat.token_of("/web/lines/A1")
    refused = cat.post("/web/lines/A1/repayments", {"amount": amount}, token=token)
    assert refused.status_code == 422 and code in refused.text and "amount:" in refused.text
    assert f'value="{amount}"' in refused.text, "what was typed is kept"
    preview = cat.get("/web/lines/A1/preview", params={"amount": amount, "term": "6"})
    assert preview.status_code == 422 and code in preview.text
    assert snapshot(api.engine) == before


def test_a_drawdown_the_ledger_refuses_is_told_in_the_customers_words(api, cat):
    freeze_a1(api)
    refused = cat.get("/web/lines/A1/preview", params={"amount": "1000", "term": "6", "lang": "en"})
    assert refused.status_code == 422
    assert "line_frozen" in refused.text or "account_past_due" in refused.text
    assert "The line is frozen" in refused.text or "You have a payment overdue" in refused.text


def test_an_analyst_reads_a_customers_page_but_gets_no_forms_and_may_not_post(api):
    ann = Pages(api.client.app)
    ann.sign_in("ann")
    page = ann.get("/web/lines/A1")
    assert page.status_code == 200 and 'action="/web/lines/A1/repayments' not in page.text
    refused = ann.post("/web/lines/A1/repayments", {"amount": "100"}, token_from="/web/lines/A1")
    assert refused.status_code == 403 and "role_forbidden" in refused.text


def test_the_language_is_zh_by_default_en_when_asked_and_anything_else_is_refused(api, cat):
    zh, en = cat.get("/web/lines/A1"), cat.get("/web/lines/A1?lang=en")
    assert '<html lang="zh-CN">' in zh.text and "我的额度" in zh.text
    assert '<html lang="en">' in en.text and "My credit line" in en.text
    assert 'href="/web/lines/A1?lang=en"' in zh.text and 'href="/web/lines/A1?lang=zh"' in en.text
    refused = cat.get("/web/lines/A1?lang=fr")
    assert refused.status_code == 422 and "language_unknown" in refused.text


def test_a_customer_with_two_lines_picks_one_from_a_list_of_its_own(api, cat):
    opened = api.call(
        "POST", "/accounts", "ada", json={"account_id": "A3", "customer_id": "C1", "credit_limit": 500_000}
    )
    assert opened.status_code == 201, opened.json()
    listed = cat.get("/web/lines?lang=en")
    assert listed.status_code == 200
    assert 'href="/web/lines/A1?lang=en"' in listed.text and 'href="/web/lines/A3?lang=en"' in listed.text
    assert "/web/lines/A2" not in listed.text
    assert cat.get("/web/lines/A3").status_code == 200
