"""The analyst console, the public criteria, the pages' texts, and no request to the pages getting a 5xx."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import Environment, PackageLoader, meta
from tests.service.conftest import TODAY, every_route
from tests.service.test_pages_customer import freeze_a1, hold_a2, visible_text
from tests.service.test_pages_session import Pages

from linewise.explain.criteria import render_criteria
from linewise.ledger.model import LineStatus
from linewise.ledger.store.decision_log import load_run
from linewise.review.account import decide_account
from linewise.review.deciders import load_decider
from linewise.review.triggers import TRIGGERS
from linewise.service.pages import PAGES_PREFIX
from linewise.service.pages.texts import PROBLEMS, TEXTS, placeholders
from linewise.strategy import read_strategy
from linewise.strategy.diff import describe_changes


@pytest.fixture
def ann(api) -> Pages:
    pages = Pages(api.client.app)
    pages.sign_in("ann")
    return pages


def test_the_console_charts_the_latest_decisions_and_lists_them_with_links_to_their_audits(api, ann):
    freeze_a1(api)
    hold_a2(api)
    page = ann.get("/web/console?lang=en")
    assert page.status_code == 200
    assert "Frozen lines" in page.text and "Active lines" in page.text
    charts = re.findall(r'<svg class="chart"[^>]*role="img" aria-labelledby="([^"]+)"', page.text)
    assert {"chart-actions-title", "chart-grades-title"} <= set(charts)
    actions = re.search(r'<title id="chart-actions-title">.*?</svg>', page.text, re.S)[0]
    assert re.search(r">Freeze</text>.*?>1</text>", actions, re.S) and re.search(
        r">Hold</text>.*?>1</text>", actions, re.S
    )
    assert 'href="/web/console/decisions/1/A1?lang=en"' in page.text
    assert 'href="/web/console/decisions/2/A2?lang=en"' in page.text
    mine = ann.get("/web/console", params={"account": "A2"})
    assert "/web/console/decisions/2/A2" in mine.text and "/web/console/decisions/1/A1" not in mine.text


def test_limit_added_is_charted_by_month_from_the_ledgers_limit_changes(api, ann):
    raised = api.call("PUT", "/accounts/A2/limit", "ada", json={"credit_limit": 3_000_000, "reason": "manual_review"})
    assert raised.status_code == 200, raised.json()
    page = ann.get("/web/console?lang=en").text
    assert "Limit added each month CNY" in page
    assert f'<td>{TODAY:%Y-%m}</td><td class="num">CNY 10,000</td>' in page


def test_a_decisions_audit_shows_its_features_versions_reasons_recourse_and_a_replay_that_matches(api, ann):
    decision = freeze_a1(api, lang="en")
    page = ann.get(f"/web/console/decisions/{decision['run']}/A1?lang=en")
    assert page.status_code == 200, page.text[:500]
    analysis = decision["analysis"]
    for shown in (analysis["strategy"], analysis["model"], analysis["risk_grade"], analysis["segment"]):
        assert shown in page.text
    for code in analysis["reason_codes"] + analysis["recourse_codes"]:
        assert code in page.text
    for feature in analysis["features"]:
        assert f">{feature}<" in page.text
    assert decision["recourse"] in page.text
    assert "the same, bit for bit" in page.text
    stored = load_run(api.engine, decision["run"])
    assert f"{float(stored.decisions['pd'].iloc[0]):.4f}" in page.text


def test_an_audit_of_a_run_or_account_the_log_does_not_hold_is_a_404_page(api, ann):
    freeze_a1(api)
    assert ann.get("/web/console/decisions/999/A1").status_code == 404
    assert ann.get("/web/console/decisions/1/A2").status_code == 404
    assert ann.get("/web/console/decisions/0/A1").status_code == 422


def test_the_strategy_diff_says_what_changed_between_two_strategies_the_log_stored(api, ann, model_files, tmp_path):
    hold_a2(api)
    model_dir, strategy_file = model_files
    changed = strategy_file.read_text(encoding="utf-8").replace("\nversion: 1\n", "\nversion: 2\n", 1)
    changed = changed.replace("cooldown_days: 90", "cooldown_days: 60", 1)
    second = tmp_path / "strategy-2.yaml"
    second.write_text(changed, encoding="utf-8")
    decide_account(api.engine, "A1", load_decider(model_dir, second), as_of=TODAY)
    page = ann.get("/web/console/strategies?lang=en")
    assert page.status_code == 200
    expected = describe_changes(
        read_strategy(strategy_file.read_text(encoding="utf-8")).spec, read_strategy(changed).spec
    )
    assert expected and "service_test@1 → service_test@2" in page.text
    for change in expected:
        assert change.replace(">", "&gt;") in page.text
    unknown = ann.get("/web/console/strategies", params={"old": "nope@1", "new": "service_test@1"})
    assert unknown.status_code == 422 and "nope@1" in unknown.text


def test_customers_may_not_open_the_console(api):
    cat = Pages(api.client.app)
    cat.sign_in("cat")
    for path in ("/web/console", "/web/console/strategies", "/web/console/decisions/1/A1"):
        refused = cat.get(path)
        assert refused.status_code == 403 and "role_forbidden" in refused.text, path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_criteria_page_is_public_and_tells_the_services_strategy_as_strategy_explain_does(api, lang):
    stranger = Pages(api.client.app)
    page = stranger.get(f"/web/criteria?lang={lang}")
    assert page.status_code == 200
    strategy = api.client.app.state.services.decider.strategy
    text = render_criteria(strategy.policies["champion"], lang)
    shown = visible_text(page.text).replace("&#39;", "'").replace("&gt;", ">")
    for line in text.split("\n"):
        assert line.removeprefix("- ") in shown, line


def test_every_text_has_both_languages_with_the_same_placeholders():
    for key, (zh, en) in {**TEXTS, **PROBLEMS}.items():
        assert zh and en, key
        assert placeholders(zh) == placeholders(en), key


def test_every_text_a_template_names_is_in_the_catalogue():
    env = Environment(loader=PackageLoader("linewise.service", "templates"), autoescape=True)
    named = set()
    for name in env.list_templates():
        source = env.loader.get_source(env, name)[0]
        meta.find_undeclared_variables(env.parse(source))
        named |= set(re.findall(r"\bt\('([a-z0-9_-]+)'(?!\s*~)", source))
    assert named - set(TEXTS) == set()


@pytest.mark.parametrize(
    ("prefix", "names"),
    [
        ("status_", [s.value for s in LineStatus]),
        ("trigger_", list(TRIGGERS)),
        ("action_", ["increase", "hold", "decrease", "freeze"]),
        ("how_", ["opened", "decision", "by_hand"]),
        ("report_status_", ["current", "past_due", "paid_off", "closed"]),
        ("history_", ["on-time", "late", "not-open", "closed"]),
        ("error_title_", ["403", "404", "422", "other"]),
    ],
)
def test_every_value_a_template_names_a_text_by_has_its_text(prefix, names):
    assert [name for name in names if prefix + name not in TEXTS] == []


ODD = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "\x00", "A1\x00", "../A1", "A" * 300, "1e309", "-1", "9" * 30, "é", "zh", "en"]),
)


@st.composite
def page_requests(draw, routes):
    method, template = draw(st.sampled_from(routes))
    path = template
    for name in ("{account_id}", "{run}", "{path}"):
        path = path.replace(name, quote(draw(st.sampled_from(["A1", "A2", "1", "NOPE"]) | ODD), safe="") or "x")
    query = draw(st.dictionaries(st.sampled_from(["lang", "amount", "term", "account", "old", "new", "next"]), ODD))
    form = draw(st.dictionaries(st.sampled_from(["amount", "term", "key", "csrf_token", "username", "next"]), ODD))
    return method, PAGES_PREFIX + path, query, form, draw(st.sampled_from(["cat", "ann", None])), draw(st.booleans())


def any_token(pages: Pages) -> str:
    """A token of the browser's session: from a page with the sign-out form, or the sign-in form once signed out."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', pages.get("/web/criteria").text)
    return found[1] if found else pages.token_of("/web/sign-in")


def test_no_request_to_the_pages_gets_a_5xx(api):
    pages_app = next(route.app for route in api.client.app.routes if getattr(route, "path", None) == PAGES_PREFIX)
    routes = [r for r in every_route(pages_app) if "{path" not in r[1]]
    browsers = {user: Pages(api.client.app) for user in ("cat", "ann")}
    for user, pages in browsers.items():
        pages.sign_in(user)
    browsers[None] = Pages(api.client.app)

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(request=page_requests(routes))
    def answered(request):
        method, path, query, form, user, with_token = request
        pages = browsers[user]
        headers = {"Accept": "text/html" if with_token else "*/*"}
        if method == "POST" and with_token:
            form = {**form, "csrf_token": any_token(pages)}
        answer = pages.client.request(method, path, params=query, data=form or None, headers=headers)
        assert answer.status_code < 500, (method, path, query, form, user, answer.text[:500])
        if answer.status_code >= 400 and headers["Accept"] == "*/*":
            assert set(answer.json()) == {"code", "where", "detail"}, answer.text

    answered()


pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
