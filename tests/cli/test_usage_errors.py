"""Usage errors and values refused before any work: one line, a code, exit 2, nothing written.

Each case here was found by the fuzz of every command (tests/cli/test_fuzz_every_command.py).
"""

from __future__ import annotations

import pytest
from tests.cli.test_refusals import invoke, refusal


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("demo", "--accounts", "many"),
            "error: --accounts: --accounts must be a whole number (digits 0-9); got 'many' [option_not_a_whole_number]",
        ),
        (
            ("demo", "--accounts", "0"),
            "error: --accounts: --accounts must be greater than or equal to 1; got '0' [option_out_of_range]",
        ),
        (
            ("demo", "--seed", "-1"),
            "error: --seed: --seed must be greater than or equal to 0; got '-1' [option_out_of_range]",
        ),
        (("repay", "--amount", "10.00"), "error: --account: --account must be given; got nothing [option_missing]"),
        (
            ("repay", "--account", "A1", "--amount", "1", "--term", "6"),
            "error: linewise repay: option must be an option `linewise repay --help` lists; got '--term' "
            "[option_unknown]",
        ),
        (
            ("strategy", "validate", "a.yaml", "b.yaml"),
            "error: linewise strategy validate: arguments must be as `linewise strategy validate --help` shows; "
            "got 'Got unexpected extra argument(s) (b.yaml)' [usage_invalid]",
        ),
        (
            ("line", "show", "--account", "A1\x00"),
            "error: command line: arguments must be free of NUL characters; got 'A1\\x00' [argument_has_nul]",
        ),
    ],
)
def test_a_usage_error_is_one_line_with_a_code(tmp_path, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    assert refusal(*args) == (2, expected)
    assert list(tmp_path.iterdir()) == []


def test_help_is_still_shown_in_full(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shown = invoke("line", "show", "--help")
    assert shown.exit_code == 0
    assert "--account" in shown.stdout


@pytest.mark.parametrize("run", ["0", "99999999999999999999"])
def test_a_run_number_beyond_64_bits_or_below_1_is_refused_before_the_database_is_asked(tmp_path, monkeypatch, run):
    monkeypatch.chdir(tmp_path)
    for command in (("decisions", "replay", "--model", "m"), ("decisions", "samples")):
        status, line = refusal(*command, "--run", run)
        assert status == 2
        assert line.startswith("error: --run: --run must be ")
        assert line.endswith("[option_out_of_range]")


@pytest.mark.parametrize("start", ["2025-13-01", "20250101", "1899-12-01", "soon"])
def test_a_demo_with_a_bad_start_is_refused_and_the_old_demo_ledger_is_kept(tmp_path, monkeypatch, start):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo.db").write_text("mine", encoding="utf-8")
    status, line = refusal("demo", "--accounts", "2", "--months", "2", "--start", start, "--db", "demo.db")
    assert status == 2
    assert line.startswith("error: --start: --start must be a date")
    assert line.endswith(("[date_malformed]", "[date_out_of_range]"))
    assert (tmp_path / "demo.db").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--kind", "logit"), "model_kind_unknown"),
        (("--cv", "99999999999999999999"), "cv_folds_too_many"),
        (("--special", "-999,abc"), "special_code_not_a_number"),
        (("--portfolio", "p"), "data_or_portfolio_required"),
    ],
)
def test_model_train_refuses_a_bad_option_before_training(tmp_path, monkeypatch, args, code):
    monkeypatch.chdir(tmp_path)
    rows = ["x1,y", *(f"{i % 7},{int(i % 3 == 0)}" for i in range(30))]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    status, line = refusal("model", "train", "--data", "t.csv", "--target", "y", "--cv", "2", "--out", "m", *args)
    assert status == 2
    assert line.endswith(f"[{code}]")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["t.csv"]


@pytest.mark.parametrize(
    "args",
    [
        ("strategy", "explain", "s.yaml", "--lang", "fr"),
        ("explain", "A1", "--lang", "fr"),
        ("decisions", "samples", "--lang", "zh,fr"),
    ],
)
def test_a_language_linewise_does_not_write_is_refused_with_its_code(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    status, line = refusal(*args)
    assert status == 2
    assert line == "error: --lang: --lang must be one of ['zh', 'en']; got 'fr' [language_unknown]"
