"""The pages in Chromium, on a real server: a customer's day, an analyst's audit, and every page in zh and en
on a phone and on a desktop with no console error and no serious accessibility violation (axe-core)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from tests.service.conftest import PASSWORD
from tests.strategies import thorough

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
# axe-core's impacts that fail a page; "minor" and "moderate" ones are reported by axe but not gated here.
BLOCKING = ("serious", "critical")


@dataclass
class Tab:
    """A signed-in (or anonymous) page in its own browser context, with what its console said."""

    page: object
    errors: list[str] = field(default_factory=list)

    def go(self, url: str):
        self.errors.clear()
        answer = self.page.goto(url)
        assert answer is not None and answer.ok, (url, answer and answer.status)
        return answer


def open_tab(browser, site: str, viewport: dict, username: str | None, lang: str = "zh") -> Tab:
    context = browser.new_context(viewport=viewport, locale="zh-CN" if lang == "zh" else "en-US")
    tab = Tab(context.new_page())
    tab.page.on("console", lambda message: tab.errors.append(message.text) if message.type == "error" else None)
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    if username is not None:
        tab.go(f"{site}/sign-in?lang={lang}")
        tab.page.get_by_label("用户名" if lang == "zh" else "Username").fill(username)
        tab.page.get_by_label("密码" if lang == "zh" else "Password").fill(PASSWORD)
        tab.page.locator("form.stack button[type=submit]").click()
        tab.page.wait_for_load_state()
    return tab


def check_page(tab: Tab, screenshots, name: str) -> None:
    """Keep a screenshot, then fail on any console error or any serious or critical axe-core violation."""
    from axe_playwright_python.sync_playwright import Axe

    tab.page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
    assert tab.errors == [], (name, tab.errors)
    violations = Axe().run(tab.page).response["violations"]
    blocking = [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"][:3]])
        for v in violations
        if v["impact"] in BLOCKING
    ]
    assert blocking == [], (name, blocking)


def test_a_customer_reads_the_latest_decision_previews_borrows_and_repays(browser, site, screenshots):
    tab = open_tab(browser, site, PHONE, "cody", lang="en")
    page = tab.page
    assert re.search(r"/web/lines/A2\?lang=en$", page.url), page.url
    decision = page.get_by_role("region", name="The latest decision on your limit")
    # A2 repaid every instalment on time, January's included (due on the review's day, not late).
    assert "Your limit has been raised from CNY 20,000 to CNY 30,000." in decision.inner_text()
    check_page(tab, screenshots, "journey-1-line-en-phone")

    page.get_by_label("Amount (CNY)").first.fill("3000")
    page.get_by_label("Term").select_option("6")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url(re.compile(r"/preview\?"))
    assert "Borrowing CNY 3,000 over 6 months" in page.inner_text("main")
    assert page.locator("table tbody tr").count() == 6
    available_after = page.locator("dt:text-is('Available afterwards') + dd").inner_text()
    check_page(tab, screenshots, "journey-2-preview-en-phone")

    page.get_by_role("button", name="Borrow CNY 3,000").click()
    page.wait_for_url(re.compile(r"/drawdowns\?"))
    assert page.get_by_role("heading", name="Money borrowed").is_visible()
    assert page.locator("dt:text-is('Available') + dd").inner_text() == available_after
    check_page(tab, screenshots, "journey-3-borrowed-en-phone")

    page.get_by_role("link", name="Back to my line").click()
    page.get_by_label("Amount (CNY)").nth(1).fill("500")
    page.get_by_role("button", name="Repay").click()
    page.wait_for_url(re.compile(r"/repayments\?"))
    assert page.get_by_role("heading", name="Repayment received").is_visible()
    assert page.get_by_role("region", name="Your line after this repayment").is_visible()
    check_page(tab, screenshots, "journey-4-repaid-en-phone")
    page.context.close()


def test_a_frozen_customer_repays_what_is_due_and_is_told_the_line_is_active_again(browser, site, screenshots):
    tab = open_tab(browser, site, DESKTOP, "cat")
    page = tab.page
    assert page.locator(".status-frozen").inner_text() == "已冻结"
    assert "如何提额" in page.locator(".way-up").inner_text()
    page.get_by_role("button", name="确认还款").click()
    page.wait_for_url(re.compile(r"/repayments\?"))
    assert "您的额度已解除冻结" in page.get_by_role("status").first.inner_text()
    check_page(tab, screenshots, "journey-5-unfrozen-zh-desktop")
    page.get_by_role("link", name="返回我的额度").click()
    assert page.locator(".status-active").inner_text() == "正常"
    page.context.close()


def test_an_analyst_opens_a_decisions_audit_from_the_console(browser, site, screenshots):
    tab = open_tab(browser, site, DESKTOP, "ann", lang="en")
    page = tab.page
    assert page.get_by_role("heading", name="Analyst console").is_visible()
    page.get_by_role("link", name=re.compile(r"^Audit \d+\/A1$")).first.click()
    page.wait_for_url(re.compile(r"/console/decisions/\d+/A1"))
    assert page.get_by_role("heading", name=re.compile("Decision audit")).is_visible()
    assert "the same, bit for bit" in page.get_by_role("region", name="Replay").inner_text()
    assert page.get_by_role("region", name="Features").locator("tbody tr").count() > 10
    check_page(tab, screenshots, "journey-6-audit-en-desktop")
    page.context.close()


# Each page: who looks at it and its path.
PAGES = {
    "sign-in": (None, "/sign-in"),
    "criteria": (None, "/criteria"),
    "line": ("cody", "/lines/A2"),
    "preview": ("cody", "/lines/A2/preview?amount=2000&term=12"),
    "console": ("ann", "/console"),
    "audit": ("ann", "/console/decisions/3/A2"),
    "strategies": ("ann", "/console/strategies"),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_each_page_in_zh_and_en_on_a_phone_and_a_desktop_has_no_console_error_and_no_serious_axe_violation(
    browser, site, screenshots, name
):
    user, path = PAGES[name]
    # Where a page breaks is the phone's width: on a laptop only the phone, both under the ci profile.
    viewports = VIEWPORTS if thorough() else {"phone": VIEWPORTS["phone"]}
    for viewport_name, viewport in viewports.items():
        tab = open_tab(browser, site, viewport, user)
        for lang in ("zh", "en"):
            tab.go(f"{site}{path}{'&' if '?' in path else '?'}lang={lang}")
            assert tab.page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
            width = tab.page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], (name, lang, viewport_name, "the page scrolls sideways", width)
            check_page(tab, screenshots, f"{name}-{lang}-{viewport_name}")
        tab.page.context.close()
