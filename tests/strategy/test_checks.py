"""The static checks: grades, ladder, segments and gates that no field rule can see.

Each case is the shipped default with one edit; the line a problem must name is found
in the edited text. ``conditions_can_hold`` is checked against plain interval sense.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from tests.strategy.texts import DEFAULT, edit, line_of, problems_of

from linewise.strategy import StrategySpec, read_strategy
from linewise.strategy.checks import Finding, check_strategy, conditions_can_hold
from linewise.strategy.spec import Condition

SIGNED = "utilisation_trend_6m"  # a trend: any real number, negative included

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


def findings_of(text: str) -> list[Finding]:
    """The static checks of ``text``, past the loader, which would refuse it."""
    return check_strategy(StrategySpec.model_validate(yaml.safe_load(text)), {})


def errors_of(text: str) -> list[Finding]:
    return [finding for finding in findings_of(text) if not finding.warning]


def cond(feature: str, op: str, value: float | None = None) -> Condition:
    return Condition(feature=feature, op=op, value=None if value is None else Decimal(repr(value)))


def test_the_shipped_default_passes_every_check():
    assert findings_of(DEFAULT) == []


# --- grades ----------------------------------------------------------------------------


def test_grades_whose_pd_max_does_not_rise_overlap_and_are_an_error_at_that_grade():
    text = edit(DEFAULT, "{name: C, pd_max: 0.20}", "{name: C, pd_max: 0.10}")
    (problem,) = problems_of(text)
    assert problem.column == "grades[2].pd_max"
    assert problem.row == line_of(text, "name: C")
    assert problem.value == pytest.approx(0.10)
    assert "overlap" in problem.rule


def test_a_grade_equal_to_the_one_before_it_also_overlaps():
    text = edit(DEFAULT, "{name: C, pd_max: 0.20}", "{name: C, pd_max: 0.12}")
    assert [f.path for f in errors_of(text)] == [("grades", 2, "pd_max")]


def test_a_last_grade_below_one_leaves_the_highest_pds_without_a_grade():
    text = edit(DEFAULT, "{name: E, pd_max: 1.0}", "{name: E, pd_max: 0.9}")
    (problem,) = problems_of(text)
    assert problem.column == "grades[4].pd_max"
    assert problem.row == line_of(text, "name: E")
    assert problem.value == pytest.approx(0.9)


def test_a_grade_name_given_twice_is_an_error_at_the_second():
    text = edit(DEFAULT, "  - {name: C, pd_max: 0.20}", "  - {name: B, pd_max: 0.20}")
    (problem,) = problems_of(text)
    assert problem.column == "grades[2].name"
    assert problem.row == line_of(text, "pd_max: 0.20")
    assert problem.value == "B"


def test_increase_grades_must_name_grades_the_strategy_defines():
    text = edit(DEFAULT, "grades: [A, B]", "grades: [A, Q]")
    (problem,) = problems_of(text)
    assert problem.column == "increase.grades[1]"
    assert problem.row == line_of(text, "grades: [A, Q]")
    assert problem.value == "Q"


# --- ladder and ceilings ---------------------------------------------------------------


@pytest.mark.parametrize("tiers", ["15000, 30000, 20000,", "15000, 20000, 20000,"])
def test_a_ladder_that_does_not_rise_is_an_error_at_the_tier(tiers):
    text = edit(DEFAULT, "15000, 20000, 30000,", tiers)
    (problem,) = problems_of(text)
    assert problem.column == "ladder[3]"
    assert problem.row == line_of(text, tiers)
    assert problem.value == 20000


def test_a_ceiling_below_the_ladders_floor_is_an_error():
    text = edit(DEFAULT, "  ceiling: 1000000", "  ceiling: 5000")
    (problem,) = problems_of(text)
    assert problem.column == "increase.ceiling"
    assert problem.row == line_of(text, "  ceiling: 5000")
    assert "10000" in problem.rule


def test_an_unverified_income_ceiling_below_the_floor_is_a_warning_and_the_file_loads():
    text = edit(DEFAULT, "unverified_income_ceiling: 200000", "unverified_income_ceiling: 5000")
    loaded = read_strategy(text, "s.yaml")
    (warning,) = loaded.warnings
    assert warning.column == "increase.unverified_income_ceiling"
    assert warning.row == line_of(text, "unverified_income_ceiling")
    assert warning.value == 5000


def test_a_ladder_step_steeper_than_the_percent_cap_is_a_warning_naming_the_stuck_tier():
    text = edit(DEFAULT, "30000, 45000, 60000,", "30000, 60000,")
    loaded = read_strategy(text, "s.yaml")
    (warning,) = loaded.warnings
    assert warning.column == "increase.step_pct_max"
    assert "30000 to 60000 is 100%" in warning.rule
    assert "lines at 30000 can never be raised" in warning.rule


# --- segments --------------------------------------------------------------------------

LAST_SEGMENT = "  - name: established\n    description: Everyone else.\n"


def test_a_segment_after_the_catch_all_can_never_be_reached():
    text = edit(
        DEFAULT, LAST_SEGMENT, LAST_SEGMENT + "  - name: late\n    when: [{feature: bureau_score, op: present}]\n"
    )
    (problem,) = problems_of(text)
    assert problem.column == "segments[4].when"
    assert problem.row == line_of(text, "bureau_score, op: present")
    assert problem.value == "late"
    assert "established" in problem.rule


def test_without_a_catch_all_last_segment_some_accounts_have_no_segment():
    text = edit(DEFAULT, LAST_SEGMENT, "")
    (problem,) = problems_of(text)
    assert problem.column == "segments[2].when"
    assert problem.row == line_of(text, "bureau_score, op: missing")
    assert problem.value == "thin_file"


def test_a_segment_whose_own_conditions_cannot_hold_is_an_error():
    text = edit(DEFAULT, '{feature: months_on_book, op: "<", value: 5}', '{feature: months_on_book, op: "<", value: 0}')
    (problem,) = problems_of(text)
    assert problem.column == "segments[0].when"
    assert problem.value == "new"


def test_a_segment_whose_condition_rules_out_every_increase_is_a_warning_not_an_error():
    # `new` holds months_on_book < 5; the increase gates ask for months_on_book >= 5.
    text = edit(DEFAULT, "    may_increase: false\n", "")
    loaded = read_strategy(text, "s.yaml")
    (warning,) = loaded.warnings
    assert warning.column == "segments[0].when"
    assert warning.row == line_of(text, 'months_on_book, op: "<"')
    assert warning.value == "new"
    assert "may_increase: false" in warning.rule


# --- gates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('{feature: on_time_ratio_6m, op: ">=", value: 1}', '{feature: on_time_ratio_6m, op: ">=", value: 1.5}'),
        ('{feature: dpd_max_6m, op: "==", value: 0}', '{feature: dpd_max_6m, op: "<", value: 0}'),
        ('{feature: drawn_to_limit_3m, op: "<=", value: 1.0,', '{feature: drawn_to_limit_3m, op: "<", value: 0,'),
    ],
)
def test_a_gate_no_value_can_pass_is_an_error_at_its_value(old, new):
    text = edit(DEFAULT, old, new)
    (problem,) = problems_of(text)
    assert problem.column.endswith("].value")
    assert problem.column.startswith(("increase.gates[", "requests.gates["))
    assert problem.row == line_of(text, new)


def test_two_gates_on_one_feature_that_contradict_are_an_error():
    old = '    - {feature: months_on_book, op: ">=", value: 5}\n'
    text = edit(
        DEFAULT,
        old,
        '    - {feature: months_on_book, op: ">=", value: 12}\n    - {feature: months_on_book, op: "<", value: 6}\n',
    )
    (problem,) = problems_of(text)
    assert problem.column == "increase.gates"
    lines = text.splitlines()
    increase = lines.index("increase:")
    assert problem.row == lines.index("  gates:", increase) + 1
    assert "months_on_book >= 12" in problem.value and "months_on_book < 6" in problem.value


def test_a_freeze_rule_no_account_can_meet_is_an_error():
    text = edit(DEFAULT, '{feature: dpd_current, op: ">", value: 0}', '{feature: dpd_current, op: "<", value: 0}')
    (problem,) = problems_of(text)
    assert problem.column == "freeze[0].when"
    assert problem.value == "overdue_now"


# --- can these conditions hold? --------------------------------------------------------


@given(low=finite, high=finite)
def test_at_least_a_and_at_most_b_can_hold_exactly_when_a_is_not_above_b(low, high):
    conditions = [cond(SIGNED, ">=", low), cond(SIGNED, "<=", high)]
    assert conditions_can_hold(conditions) is (low <= high)


@given(low=finite, high=finite)
def test_strictly_above_a_and_strictly_below_b_can_hold_exactly_when_a_is_below_b(low, high):
    conditions = [cond(SIGNED, ">", low), cond(SIGNED, "<", high)]
    assert conditions_can_hold(conditions) is (low < high)


@given(value=finite)
@pytest.mark.parametrize(("lower", "upper"), [(">", "<"), (">=", "<"), (">", "<=")])
def test_a_strict_bound_at_the_other_bound_cannot_hold(value, lower, upper):
    assert not conditions_can_hold([cond(SIGNED, lower, value), cond(SIGNED, upper, value)])


@given(value=finite)
def test_inclusive_bounds_at_one_value_and_equality_to_it_can_hold(value):
    assert conditions_can_hold([cond(SIGNED, ">=", value), cond(SIGNED, "<=", value)])
    assert conditions_can_hold([cond(SIGNED, "==", value), cond(SIGNED, ">=", value)])


@given(value=finite, op=st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
def test_missing_together_with_a_comparison_cannot_hold(value, op):
    assert not conditions_can_hold([cond(SIGNED, "missing"), cond(SIGNED, op, value)])


def test_present_alone_can_hold_and_missing_alone_can_hold():
    assert conditions_can_hold([cond("bureau_score", "present")])
    assert conditions_can_hold([cond("bureau_score", "missing")])
    assert not conditions_can_hold([cond("bureau_score", "present"), cond("bureau_score", "missing")])


@given(value=st.floats(min_value=-1e9, max_value=-1e-9))
def test_a_count_or_days_feature_cannot_be_below_a_negative_threshold_but_a_trend_can(value):
    assert not conditions_can_hold([cond("dpd_max_6m", "<=", value)])
    assert conditions_can_hold([cond(SIGNED, "<=", value)])


def test_conditions_on_different_features_do_not_constrain_each_other():
    assert conditions_can_hold([cond("months_on_book", ">=", 12), cond("on_time_streak", "<", 6)])


# --- money and features whose values may be negative ---------------------------------------


def test_an_unknown_currency_is_refused_at_its_line_naming_the_known_ones():
    text = edit(DEFAULT, "currency: TWD", "currency: XYZ")
    (problem,) = problems_of(text)
    assert (problem.column, problem.row, problem.value) == ("currency", line_of(text, "currency: XYZ"), "XYZ")
    assert "CNY" in problem.rule and "TWD" in problem.rule


def test_an_amount_finer_than_the_currency_allows_is_refused_at_its_line():
    text = edit(DEFAULT, "step_amount_max: 200000", "step_amount_max: 200000.005")
    (problem,) = problems_of(text)
    assert problem.column == "increase.step_amount_max"
    assert problem.row == line_of(text, "step_amount_max:")
    assert "2 decimals for TWD" in problem.rule
    # The same number is exact in a currency with cents when it has two decimals.
    assert not errors_of(edit(DEFAULT, "step_amount_max: 200000", "step_amount_max: 200000.05"))


def test_a_gate_on_a_feature_that_can_be_negative_may_ask_for_a_negative_value():
    """available_credit is negative over the limit; the registry says so, and the check follows it."""
    over_the_limit = edit(
        DEFAULT,
        '    when: [{feature: dpd_current, op: ">", value: 0}]\n',
        '    when: [{feature: dpd_current, op: ">", value: 0}]\n'
        "  - code: over_the_limit\n"
        '    when: [{feature: available_credit, op: "<", value: 0}]\n',
    )
    assert not errors_of(over_the_limit)
    below_zero_count = edit(
        DEFAULT, '{feature: dpd_max_6m, op: "==", value: 0}', '{feature: dpd_max_6m, op: "<", value: -1}'
    )
    assert errors_of(below_zero_count)
