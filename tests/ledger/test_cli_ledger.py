"""The ledger's commands on SQLite and PostgreSQL: bad input refused in one line, retries told, output literal.

The commands run in-process (typer's runner) against the test database; every
refusal is checked to exit 2 with one line naming its code and to leave every
table as it was.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from tests.ledger.common import snapshot

OPENED = "2026-01-15"


def assert_refused(cli, args, code):
    before = snapshot(cli.engine)
    result = cli(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert lines[0].endswith(f"[{code}]"), lines[0]
    assert result.stdout == ""
    assert snapshot(cli.engine) == before
    return lines[0]


# A month ahead rather than two days: the date is taken when the module is collected and the
# CLI reads its clock later, so a suite that runs across midnight must still see it as too far.
TOO_FAR = (date.today() + timedelta(days=30)).isoformat()  # noqa: DTZ011 - the CLI's own clock


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["repay", "--account", "A1", "--amount", "12,34"], "amount_not_a_number"),
        (["line", "set-limit", "--account", "A1", "--limit", "2,5"], "amount_not_a_number"),
        (["repay", "--account", "A1", "--amount", "\u0661\u0660"], "amount_not_a_number"),
        (["repay", "--account", "A1", "--amount", "1e309"], "amount_not_a_number"),
        (["repay", "--account", "A1", "--amount", "1e5000"], "amount_not_a_number"),
        (["repay", "--account", "A1", "--amount", "1_000"], "amount_not_a_number"),
        (["repay", "--account", "A1", "--amount", str(2**64)], "amount_too_large"),
        (["line", "set-limit", "--account", "A1", "--limit", "10000000000000.01"], "amount_too_large"),
        (["repay", "--account", "A1", "--amount", "10.00", "--on", "9999-12-31"], "date_out_of_range"),
        (["repay", "--account", "A1", "--amount", "10.00", "--on", "10000-01-01"], "date_malformed"),
        (["repay", "--account", "A1", "--amount", "10.00", "--on", "20260301"], "date_malformed"),
        (["repay", "--account", "A1", "--amount", "10.00", "--on", TOO_FAR], "date_after_today"),
        (["line", "freeze", "--account", "A1", "--on", TOO_FAR], "date_after_today"),
        (["repay", "--account", "A1", "--amount", "10.00", "--on", "2026-01-14"], "occurred_on_before_line_opened"),
        (["statement", "--account", "A1", "--as-of", "2026-01-14"], "as_of_before_line_opened"),
        (["panel", "export", "--out", "p.parquet", "--as-of", "2200-01-31"], "date_out_of_range"),
        (["line", "open", "--account", "A" * 65, "--customer", "C", "--limit", "1"], "id_malformed"),
        (["line", "open", "--account", "N1", "--customer", "C" * 65, "--limit", "1"], "id_malformed"),
        (["line", "open", "--account", "X[/oops]", "--customer", "C", "--limit", "1"], "id_malformed"),
        (["line", "open", "--account", "N1", "--customer", "[red]A9", "--limit", "1"], "id_malformed"),
        (["line", "open", "--account", " N1", "--customer", "C", "--limit", "1"], "id_malformed"),
        (["line", "open", "--account", "N\x1b[31m", "--customer", "C", "--limit", "1"], "id_malformed"),
        (["repay", "--account", "A1", "--amount", "10.00", "--key", "k" * 129], "key_malformed"),
        (["line", "freeze", "--account", "A1", "--reason", "r" * 65], "reason_malformed"),
        (["line", "freeze", "--account", "A1", "--reason", "X[/oops]"], "reason_malformed"),
        (["line", "set-limit", "--account", "A1", "--limit", "100.00", "--decision", "d" * 129], "key_malformed"),
        (["line", "reverse", "--account", "A1", "--event", "x y", "--reason", "r"], "key_malformed"),
        (["line", "show", "--account", "A" * 65], "id_malformed"),
        (["statement", "--account", "[red]A9"], "id_malformed"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_its_code_and_writes_nothing(line, args, code):
    assert_refused(line, args, code)


def test_an_id_of_64_characters_works_on_every_command_and_database(cli):
    account = "A" * 64
    assert (
        cli(
            "line",
            "open",
            "--account",
            account,
            "--customer",
            "C" * 64,
            "--limit",
            "100.00",
            "--on",
            OPENED,
            "--key",
            "k" * 128,
        ).exit_code
        == 0
    )
    result = cli("line", "freeze", "--account", account, "--reason", "r" * 64, "--on", OPENED)
    assert result.exit_code == 0, result.output
    assert json.loads(cli("line", "show", "--account", account, "--json").stdout)["status"] == "frozen"


def test_markup_in_refused_input_is_printed_as_typed(line):
    message = assert_refused(line, ["statement", "--account", "[red]A9"], "id_malformed")
    assert "got '[red]A9'" in message
    message = assert_refused(line, ["repay", "--account", "A1", "--amount", "[bold]1"], "amount_not_a_number")
    assert "got '[bold]1'" in message


def test_a_file_name_holding_markup_is_printed_as_typed(line):
    result = line("panel", "export", "--out", "x[/oops] [red]y.parquet", "--as-of", "2026-03-31")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("to x[/oops] [red]y.parquet")


def retry_twice(cli, *args):
    first, again = cli(*args), cli(*args)
    assert first.exit_code == 0 and again.exit_code == 0, (first.output, again.output)
    return first.stdout.strip(), again.stdout.strip()


NOTE = " (already posted with this key; nothing new written)"


@pytest.mark.parametrize(
    "args",
    [
        ["line", "open", "--account", "N1", "--customer", "C9", "--limit", "100.00", "--on", OPENED],
        ["draw", "--account", "A1", "--amount", "500.00", "--term", "3", "--on", "2026-01-20"],
        ["repay", "--account", "A1", "--amount", "100.00", "--on", "2026-01-20"],
        [
            "line",
            "set-limit",
            "--account",
            "A1",
            "--limit",
            "15000.00",
            "--reason",
            "dpd_above_max",
            "--on",
            "2026-01-20",
        ],
        ["line", "freeze", "--account", "A1", "--on", "2026-01-20"],
        ["line", "close", "--account", "B1", "--on", "2026-01-20"],
    ],
)
def test_every_posting_command_says_when_a_retry_was_a_duplicate(line, args):
    first, again = retry_twice(line, *args, "--key", "retry-1")
    assert not first.endswith(NOTE)
    assert again == first + NOTE
    before = snapshot(line.engine)
    third = json.loads(line(*args, "--key", "retry-1", "--json").stdout)
    assert third["duplicate"] is True
    assert snapshot(line.engine) == before


def test_unfreeze_and_reverse_retries_are_told_as_duplicates(line):
    assert line("line", "freeze", "--account", "A1", "--on", "2026-01-20").exit_code == 0
    first, again = retry_twice(line, "line", "unfreeze", "--account", "A1", "--on", "2026-01-21", "--key", "u1")
    assert again == first + NOTE
    assert line("repay", "--account", "A1", "--amount", "100.00", "--on", "2026-01-22", "--key", "p1").exit_code == 0
    first, again = retry_twice(
        line,
        "line",
        "reverse",
        "--account",
        "A1",
        "--event",
        "p1",
        "--reason",
        "payment_returned",
        "--on",
        "2026-01-23",
        "--key",
        "r1",
    )
    assert again == first + NOTE


def test_a_retried_limit_change_tells_the_change_not_the_limit_twice(line):
    first, again = retry_twice(
        line, "line", "set-limit", "--account", "A1", "--limit", "15000.00", "--on", "2026-01-20", "--key", "cut"
    )
    assert first == "A1: limit 20,000.00 CNY -> 15,000.00 CNY (manual_review)"
    assert again == first + NOTE


def test_a_key_used_on_one_account_is_a_new_request_on_another(line):
    a1 = line("repay", "--account", "A1", "--amount", "1053.15", "--on", "2026-02-15", "--key", "pay-2026-02", "--json")
    assert line("draw", "--account", "B1", "--amount", "600.00", "--term", "3", "--on", OPENED).exit_code == 0
    b1 = line("repay", "--account", "B1", "--amount", "100.00", "--on", "2026-02-15", "--key", "pay-2026-02", "--json")
    assert a1.exit_code == 0 and b1.exit_code == 0, b1.output
    result = json.loads(b1.stdout)
    assert result["duplicate"] is False and result["account_id"] == "B1"
    assert "A1" not in b1.stdout


def test_reversing_a_paid_off_drawdown_says_which_repayment_depends_on_it(cli):
    for args in (
        ["line", "open", "--account", "A1", "--customer", "C1", "--limit", "1000.00", "--on", OPENED],
        ["draw", "--account", "A1", "--amount", "500.00", "--term", "3", "--on", OPENED, "--key", "d1"],
        ["repay", "--account", "A1", "--amount", "500.25", "--on", "2026-01-16", "--key", "payoff"],
    ):
        assert cli(*args).exit_code == 0, cli(*args).output
    message = assert_refused(
        cli,
        ["line", "reverse", "--account", "A1", "--event", "d1", "--reason", "drawdown_cancelled", "--on", "2026-01-17"],
        "reversal_invalidates_later_event",
    )
    assert "'payoff'" in message and "nothing_outstanding" in message
