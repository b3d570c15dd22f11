"""`linewise bureau show` and `export` on SQLite and PostgreSQL: the view, the file, and refusals that write nothing."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import pytest
from tests.ledger.common import snapshot

from linewise.calendar import month_end
from linewise.ledger.bureau_file import csv_header, csv_row, last_reported_month, record_json
from linewise.ledger.credit_report import account_report, book_report

# Months after the fixture's line opened (2026-01-15) and long over on any day these tests run.
MARCH = "2026-03"
MARCH_END = date(2026, 3, 31)
# A month ahead of today's: refused whatever the day (the current month is refused too).
AHEAD = f"{date.today() + timedelta(days=40):%Y-%m}"  # noqa: DTZ011 - the CLI's own clock
THIS_MONTH = f"{date.today():%Y-%m}"  # noqa: DTZ011 - the CLI's own clock


@pytest.fixture
def bureau(line, monkeypatch):
    """The ``line`` fixture's ledger (A1 with 6,000.00 drawn on 2026-01-15 and never repaid; B1), for bureau commands."""
    monkeypatch.setattr("linewise.cli.bureau.engine", lambda check_schema=True: line.engine)
    return line


def test_show_prints_the_line_and_each_loan_with_its_history(bureau):
    result = bureau("bureau", "show", "--account", "A1", "--month", MARCH)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "A1 (customer C1, CNY) as reported for 2026-03"
    history = "/" * 21 + "N12"
    rows = [line.split() for line in lines[2:4]]
    assert [row[0] for row in rows] == ["A1", "A1/1"]
    assert all(row[-1] == history for row in rows)
    assert "past_due (2)" in lines[2] and "6,000.00" in lines[3]
    assert lines[-1].startswith("status (n): n months late.")


def test_show_json_holds_the_records_of_the_credit_report_view(bureau):
    result = bureau("bureau", "show", "--account", "A1", "--month", MARCH, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["account_id"] == "A1" and payload["month"] == MARCH
    assert payload["records"] == [record_json(r) for r in account_report(bureau.engine, "A1", MARCH_END)]
    assert [r["history"][-3:] for r in payload["records"]] == ["N12", "N12"]


def test_show_without_a_month_reports_the_last_month_over(bureau):
    result = bureau("bureau", "show", "--account", "A1", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["month"] == f"{last_reported_month(date.today()):%Y-%m}"  # noqa: DTZ011
    assert all(len(r["history"]) == 24 for r in payload["records"])


def test_export_writes_one_row_per_record_with_a_header(bureau, tmp_path):
    result = bureau("bureau", "export", "--month", MARCH, "--out", "out/bureau.csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "wrote 3 records (2 lines, 1 loan) for 2026-03 to out/bureau.csv"
    with (tmp_path / "out" / "bureau.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == csv_header()
    assert rows[1:] == [csv_row(r) for r in book_report(bureau.engine, MARCH_END)]
    assert [row[2] for row in rows[1:]] == ["A1", "A1/1", "B1"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["bureau.csv"]


def test_export_replaces_an_existing_file_and_says_so_in_json(bureau, tmp_path):
    (tmp_path / "bureau.csv").write_text("old", encoding="utf-8")
    result = bureau("bureau", "export", "--month", "2026-02", "--out", "bureau.csv", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"out": "bureau.csv", "month": "2026-02", "records": 3, "lines": 2, "loans": 1}
    assert (tmp_path / "bureau.csv").read_text(encoding="utf-8").startswith("month,record_type,")


def test_export_of_a_month_before_any_line_writes_only_the_header(bureau, tmp_path):
    assert bureau("bureau", "export", "--month", "2025-12", "--out", "b.csv").exit_code == 0
    assert (tmp_path / "b.csv").read_text(encoding="utf-8") == ",".join(csv_header()) + "\n"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["bureau", "show", "--account", "A1", "--month", "2026-13"], "month_malformed"),
        (["bureau", "show", "--account", "A1", "--month", "2026-3"], "month_malformed"),
        (["bureau", "show", "--account", "A1", "--month", "2026-03-31"], "month_malformed"),
        (["bureau", "show", "--account", "A1", "--month", "1899-12"], "date_out_of_range"),
        (["bureau", "show", "--account", "A1", "--month", AHEAD], "month_not_over"),
        (["bureau", "show", "--account", "A1", "--month", THIS_MONTH], "month_not_over"),
        (["bureau", "show", "--account", "Z9", "--month", MARCH], "account_not_found"),
        (["bureau", "show", "--account", "[red]A9", "--month", MARCH], "id_malformed"),
        (["bureau", "show", "--account", "A1", "--month", "2025-12"], "as_of_before_line_opened"),
        (["bureau", "export", "--month", "March", "--out", "b.csv"], "month_malformed"),
        (["bureau", "export", "--month", AHEAD, "--out", "b.csv"], "month_not_over"),
        (["bureau", "export", "--month", MARCH, "--out", "."], "out_is_a_directory"),
        (["bureau", "export", "--month", MARCH, "--out", "taken/b.csv"], "out_under_a_file"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_what_and_where_and_writes_nothing(bureau, tmp_path, args, code):
    (tmp_path / "taken").write_text("a file", encoding="utf-8")
    before = snapshot(bureau.engine), sorted(p.name for p in tmp_path.iterdir())
    result = bureau(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0].endswith(f"[{code}]"), result.stderr
    assert result.stdout == ""
    assert (snapshot(bureau.engine), sorted(p.name for p in tmp_path.iterdir())) == before


def test_the_month_of_the_file_is_its_last_day(bureau, tmp_path):
    assert bureau("bureau", "export", "--month", "2026-02", "--out", "b.csv").exit_code == 0
    with (tmp_path / "b.csv").open(encoding="utf-8", newline="") as stream:
        months = {row["month"] for row in csv.DictReader(stream)}
    assert months == {month_end(date(2026, 2, 1)).isoformat()}
