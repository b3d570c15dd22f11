"""Reading a strategy file: every problem at once, each at its line and field, or a spec.

Bad files are the shipped default with one or more edits; the lines a problem must
name are found in the edited text itself.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from tests.inprocess import run_linewise
from tests.strategy.texts import DEFAULT, edit, line_of, problems_of

from linewise.errors import InputFileError, StrategyValidationError
from linewise.strategy import (
    LoadedSpec,
    read_strategy,
    read_strategy_file,
)

DEFAULT_DATA = yaml.safe_load(DEFAULT)
CHAMPION_ONLY = "  - {name: champion, share: 1.0}"


def key_line(text: str, key: str) -> int:
    """The 1-based line where the top-level field ``key`` starts."""
    found = [number for number, line in enumerate(text.splitlines(), start=1) if line.startswith(f"{key}:")]
    assert len(found) == 1, f"{key!r} starts lines {found}"
    return found[0]


def gate_index(feature: str) -> int:
    """Where the default's increase gate on ``feature`` sits in the list."""
    gates = DEFAULT_DATA["increase"]["gates"]
    return next(i for i, gate in enumerate(gates) if gate["feature"] == feature)


def with_arms(arms: str) -> str:
    """The default with its arms list replaced by ``arms`` (YAML list items)."""
    return edit(DEFAULT, CHAMPION_ONLY, arms)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_linewise(*args, cwd=cwd)


# --- the shipped strategy --------------------------------------------------------------


def test_the_shipped_default_loads_without_warnings_as_default_at_version_one():
    loaded = read_strategy(DEFAULT, "default.yaml")
    assert isinstance(loaded, LoadedSpec)
    assert loaded.spec.ref == "default@1"
    assert loaded.warnings == []
    assert [arm.name for arm in loaded.spec.arms] == ["champion"]
    assert list(loaded.arms) == ["champion"]
    assert loaded.source == "default.yaml" and loaded.text == DEFAULT


# --- every problem at once -------------------------------------------------------------


def test_several_independent_mistakes_are_all_reported_at_their_lines_in_line_order():
    text = DEFAULT
    text = edit(text, "tiers_down: 1", "tiers_dwon: 1")
    text = edit(text, "value: 0.95", "value: O.95")
    text = edit(text, "feature: on_time_ratio_6m", "feature: on_time_ratio_7m")
    text = edit(text, "cooldown_days: 90", "cooldown_days: -1")

    problems = problems_of(text)

    expected = sorted(
        [
            (line_of(text, "tiers_dwon"), "decrease[0].tiers_dwon", 1),
            (line_of(text, "O.95"), f"increase.gates[{gate_index('utilisation_current')}].value", "O.95"),
            (
                line_of(text, "on_time_ratio_7m"),
                f"increase.gates[{gate_index('on_time_ratio_6m')}].feature",
                "on_time_ratio_7m",
            ),
            (line_of(text, "cooldown_days: -1"), "increase.cooldown_days", -1),
        ]
    )
    assert [(p.row, p.column, p.value) for p in problems] == expected
    assert all(p.source == "s.yaml" for p in problems)


def test_an_unknown_feature_name_is_answered_with_the_close_names_of_the_registry():
    text = edit(DEFAULT, "feature: on_time_ratio_6m", "feature: on_time_ratio_7m")
    (problem,) = problems_of(text)
    assert problem.column.endswith(".feature")
    for close in ("on_time_ratio_3m", "on_time_ratio_6m", "on_time_ratio_12m"):
        assert close in problem.rule
    assert "months_on_book" not in problem.rule


def test_a_misspelt_field_is_refused_at_its_line_and_the_field_it_replaced_is_missing():
    text = edit(DEFAULT, "cooldown_days: 90", "cooldwn_days: 90")
    problems = {p.column: p for p in problems_of(text)}
    assert set(problems) == {"increase.cooldwn_days", "increase.cooldown_days"}
    assert problems["increase.cooldwn_days"].row == line_of(text, "cooldwn_days")
    assert "misspelt" in problems["increase.cooldwn_days"].rule
    assert problems["increase.cooldown_days"].row == key_line(text, "increase")
    assert problems["increase.cooldown_days"].rule == "given"


def test_the_error_message_lists_every_problem_in_the_one_template():
    text = edit(DEFAULT, "cooldown_days: 90", "cooldown_days: -1")
    text = edit(text, "value: 0.95", "value: O.95")
    with pytest.raises(StrategyValidationError) as caught:
        read_strategy(text, "s.yaml")
    message = str(caught.value)
    assert "2 problems" in message
    assert f"s.yaml:{line_of(text, 'O.95')}: increase.gates[" in message
    assert f"s.yaml:{line_of(text, 'cooldown_days')}: increase.cooldown_days must be " in message
    assert "got -1" in message and "got 'O.95'" in message


def test_a_static_check_error_in_a_valid_section_is_reported_with_a_field_error_elsewhere():
    text = edit(DEFAULT, "ladder: [10000, 15000, 20000, 30000,", "ladder: [10000, 15000, 30000, 20000,")
    text = edit(text, "window_days: 90", "window_dys: 90")

    problems = problems_of(text)

    by_column = {p.column: p for p in problems}
    assert by_column["ladder[3]"].row == key_line(text, "ladder")
    assert by_column["ladder[3]"].value == 20000
    assert by_column["requests.window_dys"].row == line_of(text, "window_dys")
    assert [p.row for p in problems] == sorted(p.row for p in problems)


def test_a_typo_in_the_grades_does_not_make_the_increase_grades_look_undefined():
    text = edit(DEFAULT, "{name: A, pd_max: 0.08}", "{name: X1, pd_max: 0.08}")
    text = edit(text, "{name: B, pd_max: 0.12}", "{name: X2, pd_max: O.12}")
    text = edit(text, "grades: [A, B]", "grades: [X1, X2]")
    assert [p.column for p in problems_of(text)] == ["grades[1].pd_max"]


def test_a_typo_in_the_ladder_does_not_judge_the_ceiling_against_another_ladder():
    text = edit(DEFAULT, "ladder: [10000, 15000, 20000,", "ladder: [1000, 2000, O.3, 3000,")
    text = edit(text, "  ceiling: 1000000", "  ceiling: 5000")
    assert [p.column for p in problems_of(text)] == ["ladder[2]"]


def test_a_key_given_twice_is_reported_at_the_second_one():
    text = edit(DEFAULT, "  cooldown_days: 90\n", "  cooldown_days: 90\n  cooldown_days: 30\n")
    (problem,) = problems_of(text)
    assert problem.column == "increase.cooldown_days"
    assert problem.row == line_of(text, "cooldown_days: 30")
    assert "once" in problem.rule


def test_a_yaml_syntax_error_is_reported_at_its_line():
    text = edit(DEFAULT, "currency: TWD", "currency: TWD: EUR")
    (problem,) = problems_of(text)
    assert problem.column == "file"
    assert problem.rule == "valid YAML"
    assert problem.row == key_line(text, "currency")


@pytest.mark.parametrize("text", ["- strategy: default\n- version: 1\n", "just words\n", ""])
def test_a_file_that_is_not_a_mapping_of_fields_is_refused(text):
    (problem,) = problems_of(text)
    assert problem.column == "file"
    assert "mapping" in problem.rule


def test_a_missing_required_field_is_named():
    text = edit(DEFAULT, "currency: TWD\n", "")
    (problem,) = problems_of(text)
    assert problem.column == "currency"
    assert problem.rule == "given"
    assert "currency must be given" in str(problem)


def test_an_amount_in_a_problem_is_shown_as_written_not_as_a_python_decimal():
    text = edit(DEFAULT, "  ceiling: 1000000", "  ceiling: 9000")
    with pytest.raises(StrategyValidationError) as caught:
        read_strategy(text, "s.yaml")
    (problem,) = caught.value.problems
    assert problem.column == "increase.ceiling"
    assert problem.row == line_of(text, "  ceiling: 9000")
    assert str(problem).endswith("got 9000")
    assert "Decimal" not in str(caught.value)


# --- champion and challenger arms ------------------------------------------------------


def test_an_arms_override_is_validated_and_reported_under_the_arm_at_its_line():
    text = with_arms(
        "  - {name: champion, share: 0.8}\n"
        "  - name: challenger\n"
        "    share: 0.2\n"
        "    overrides:\n"
        "      increase:\n"
        "        max_tiers_per_review: 9\n"
    )
    (problem,) = problems_of(text)
    assert problem.column == "arms[1].overrides.increase.max_tiers_per_review"
    assert problem.row == line_of(text, "max_tiers_per_review: 9")
    assert problem.value == 9


def test_an_arms_override_that_breaks_a_static_check_is_reported_under_the_arm():
    text = with_arms(
        "  - {name: champion, share: 0.8}\n"
        "  - name: challenger\n"
        "    share: 0.2\n"
        "    overrides: {increase: {ceiling: 5000}}\n"
    )
    (problem,) = problems_of(text)
    assert problem.column == "arms[1].overrides.increase.ceiling"
    assert problem.row == line_of(text, "ceiling: 5000")


def test_arm_shares_that_do_not_add_up_to_one_are_refused():
    text = with_arms("  - {name: champion, share: 0.8}\n  - {name: challenger, share: 0.3}\n")
    (problem,) = problems_of(text)
    assert problem.column == "arms"
    assert problem.row == key_line(text, "arms")
    assert problem.value == pytest.approx(1.1)


def test_a_valid_challenger_gets_the_merged_strategy_with_only_its_override_changed():
    text = with_arms(
        "  - {name: champion, share: 0.8}\n"
        "  - name: challenger\n"
        "    share: 0.2\n"
        "    overrides:\n"
        "      increase:\n"
        "        max_tiers_per_review: 2\n"
    )
    loaded = read_strategy(text)
    assert set(loaded.arms) == {"champion", "challenger"}
    champion, challenger = loaded.arms["champion"], loaded.arms["challenger"]
    assert champion.increase.max_tiers_per_review == DEFAULT_DATA["increase"]["max_tiers_per_review"]
    assert challenger.increase.max_tiers_per_review == 2

    expected = champion.model_dump(exclude={"arms"})
    expected["increase"]["max_tiers_per_review"] = 2
    assert challenger.model_dump(exclude={"arms"}) == expected
    assert champion.model_dump(exclude={"arms"}) == loaded.spec.model_dump(exclude={"arms"})


# --- files -----------------------------------------------------------------------------


def test_reading_a_file_gives_the_same_spec_as_reading_its_text(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(DEFAULT, encoding="utf-8")
    loaded = read_strategy_file(path)
    assert loaded.source == str(path)
    assert loaded.spec == read_strategy(DEFAULT).spec


def test_a_missing_file_is_refused_as_not_found(tmp_path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(InputFileError) as caught:
        read_strategy_file(path)
    assert caught.value.code == "file_not_found"
    assert caught.value.where == str(path)


def test_a_file_that_is_not_utf8_is_refused_with_the_offending_byte(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(DEFAULT.replace("Sound-practice", "Prud\u00e8nt").encode("latin-1"))
    with pytest.raises(InputFileError) as caught:
        read_strategy_file(path)
    assert caught.value.code == "file_not_utf8"
    assert "UTF-8" in str(caught.value) and "byte " in str(caught.value)


# --- the command line ------------------------------------------------------------------


def test_validate_accepts_the_default_and_says_what_it_holds(tmp_path):
    (tmp_path / "s.yaml").write_text(DEFAULT, encoding="utf-8")
    result = run("strategy", "validate", "s.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "default@1: valid — 4 segments, 5 grades, 16 tiers, 1 arm" in result.stdout.splitlines()


def test_validate_json_reports_a_valid_strategy(tmp_path):
    (tmp_path / "s.yaml").write_text(DEFAULT, encoding="utf-8")
    result = run("strategy", "validate", "s.yaml", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["valid"] is True
    assert payload["strategy"] == "default@1"
    assert payload["warnings"] == []


def test_validate_shows_warnings_but_accepts_the_file(tmp_path):
    text = edit(DEFAULT, "    may_increase: false\n", "")
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    result = run("strategy", "validate", "s.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    new_segment = line_of(text, 'months_on_book, op: "<"')
    assert "warning:" in result.stdout
    assert f"s.yaml:{new_segment}: segments[0].when" in result.stdout


def test_validate_refuses_an_invalid_file_with_exit_2_naming_every_problem(tmp_path):
    text = edit(DEFAULT, "cooldown_days: 90", "cooldown_days: -1")
    text = edit(text, "value: 0.95", "value: O.95")
    text = edit(text, "ladder: [10000, 15000, 20000, 30000,", "ladder: [10000, 15000, 30000, 20000,")
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    result = run("strategy", "validate", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 2
    gate = gate_index("utilisation_current")
    for line, column, value in [
        (key_line(text, "ladder"), "ladder[3]", "20000"),
        (line_of(text, "O.95"), f"increase.gates[{gate}].value", "'O.95'"),
        (line_of(text, "cooldown_days"), "increase.cooldown_days", "-1"),
    ]:
        assert f"bad.yaml:{line}: {column} must be " in result.stderr
        assert f"got {value}" in result.stderr
    assert result.stdout == ""
