"""The strategy lab's report in Chromium: it loads offline, every plot renders, nothing complains."""

from __future__ import annotations

import json
import re

import pytest
from tests.inprocess import run_linewise

from linewise.data import write_portfolio
from linewise.data.synthetic import SynthSpec, synthesize

BLOCKING = ("serious", "critical")

# Trains a model, runs five of the lab's commands and starts Chromium.
pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A synthetic book simulated under two strategies, monitored, optimised and viewed post-loan, then reported."""
    root = tmp_path_factory.mktemp("report")
    write_portfolio(synthesize(SynthSpec(accounts=2000, months=12, seed=9, horizon_months=1)), root / "book")

    def run(*args: str) -> None:
        done = run_linewise(*args, cwd=root)
        assert done.returncode == 0, (args, done.stderr)

    run("model", "train", "--portfolio", "book", "--kind", "gbm", "--cv", "2", "--out", "model")
    run("strategy", "init", "--currency", "CNY", "--out", "base.yaml")
    looser = (root / "base.yaml").read_text(encoding="utf-8").replace("risk_appetite: 1.0", "risk_appetite: 1.2")
    (root / "looser.yaml").write_text(looser.replace("strategy: default", "strategy: looser"), encoding="utf-8")
    run(
        "simulate", "--portfolio", "book", "--model", "model", "--strategy", "base.yaml", "--strategy", "looser.yaml",
        "--backtest", "--out", "sim",
    )  # fmt: skip
    run("monitor", "--portfolio", "book", "--model", "model", "--strategy", "base.yaml", "--out", "mon")
    run("postloan", "--portfolio", "book", "--out", "pl")
    run(
        "optimise", "--portfolio", "book", "--model", "model", "--strategy", "base.yaml", "--candidates", "4",
        "--out", "opt",
    )  # fmt: skip
    run(
        "report",
        "--simulation",
        "sim",
        "--optimise",
        "opt",
        "--monitor",
        "mon",
        "--postloan",
        "pl",
        "--out",
        "r/lab.html",
    )
    return root


def test_the_report_loads_offline_and_every_plot_renders_with_no_console_error(report, browser, screenshots):
    from axe_playwright_python.sync_playwright import Axe

    html = (report / "r" / "lab.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the report must load nothing from elsewhere"
    figures = html.count("<figure>")
    assert figures >= 10

    context = browser.new_context(offline=True, viewport={"width": 1000, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto((report / "r" / "lab.html").resolve().as_uri())
    page.screenshot(path=str(screenshots / "lab-report.png"), full_page=True)

    assert errors == []
    assert [url for url in requests if not url.startswith("file:")] == []
    boxes = [page.locator("figure svg").nth(i).bounding_box() for i in range(page.locator("figure svg").count())]
    assert len(boxes) == figures
    assert all(box is not None and box["width"] > 200 and box["height"] > 100 for box in boxes)
    violations = Axe().run(page).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in BLOCKING] == []
    context.close()


def test_the_figures_beside_the_report_are_every_figure_the_commands_wrote(report):
    written = json.loads((report / "r" / "lab.json").read_text(encoding="utf-8"))

    assert set(written) == {"simulation", "optimise", "monitor", "postloan"}
    assert written["simulation"] == json.loads((report / "sim" / "summary.json").read_text(encoding="utf-8"))
    assert (report / "sim" / "report.html").is_file()


def test_a_report_of_nothing_is_refused(report):
    refused = run_linewise("report", "--out", "nothing.html", cwd=report)

    assert refused.returncode == 2 and "source_required" in refused.stderr
    assert not (report / "nothing.html").exists()
