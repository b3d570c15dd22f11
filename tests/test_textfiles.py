"""Settings files are read within stated bounds: size, nesting depth and no YAML aliases.

Every hostile file here is refused before anything is built from it, so each test is
fast by construction: a bound that failed would show as a hang or a RecursionError.
"""

from __future__ import annotations

import pytest

from linewise.errors import InputError, InputFileError, Problem, StrategyValidationError
from linewise.strategy import read_strategy
from linewise.textfiles import (
    MAX_BYTES,
    MAX_DEPTH,
    parse_yaml,
    read_json,
    read_text,
    read_toml,
)

# The classic "billion laughs": 342 bytes that expand to 10**9 strings.
BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


def flow_nesting(levels: int) -> str:
    """A YAML (and JSON) value of ``levels`` lists, one inside the other."""
    return "[" * levels + "]" * levels


def block_nesting(levels: int) -> str:
    """``levels`` block mappings, one inside the other, one key a line."""
    return "".join("  " * level + "k:\n" for level in range(levels - 1)) + "  " * (levels - 1) + "k: 1\n"


def refusal(text: str, **bounds: int) -> InputFileError:
    with pytest.raises(InputFileError) as caught:
        parse_yaml(text, "s.yaml", **bounds)
    return caught.value


# --- aliases -----------------------------------------------------------------------------


def test_the_billion_laughs_file_is_refused_at_its_first_alias():
    assert len(BILLION_LAUGHS.encode()) == 342
    error = refusal(BILLION_LAUGHS)
    assert error.code == "yaml_alias_not_allowed"
    assert error.where == "s.yaml:2"
    assert str(error) == ("s.yaml:2: YAML must be free of aliases (write each value out where it is used); got '*a'")


def test_a_list_that_holds_itself_is_refused_without_recursing():
    assert refusal("a: &a [1, *a]\n").code == "yaml_alias_not_allowed"


def test_a_long_string_repeated_through_aliases_is_refused_in_a_short_message():
    text = f"big: &s {'x' * 100_000}\nmore: [{', '.join(['*s'] * 500)}]\n"
    error = refusal(text)
    assert error.code == "yaml_alias_not_allowed"
    assert len(str(error)) < 200


def test_an_anchor_that_no_alias_uses_is_accepted():
    assert parse_yaml("a: &a [1, 2]\nb: 3\n", "s.yaml").data == {"a": [1, 2], "b": 3}


# --- nesting -----------------------------------------------------------------------------


def test_nesting_at_the_bound_is_accepted_and_one_level_more_is_refused():
    assert parse_yaml(flow_nesting(MAX_DEPTH), "s.yaml").node is not None
    error = refusal(flow_nesting(MAX_DEPTH + 1))
    assert error.code == "file_too_deep"
    assert str(error) == f"s.yaml:1: nesting must be at most {MAX_DEPTH} levels deep; got {MAX_DEPTH + 1}"


def test_deep_block_nesting_is_refused_at_the_line_of_the_level_past_the_bound():
    error = refusal(block_nesting(MAX_DEPTH + 5))
    assert error.code == "file_too_deep"
    # Mapping k starts on line k, with its first key.
    assert error.where == f"s.yaml:{MAX_DEPTH + 1}"


@pytest.mark.parametrize("levels", [2_000, 200_000])
def test_nesting_far_past_python_s_recursion_limit_is_refused_not_overflowed(levels):
    assert refusal(flow_nesting(levels)).code == "file_too_deep"


# --- size --------------------------------------------------------------------------------


def test_text_at_the_size_bound_is_accepted_and_one_byte_more_is_refused():
    text = "a: " + "x" * 97  # 100 bytes
    assert parse_yaml(text, "s.yaml", max_bytes=100).data == {"a": "x" * 97}
    error = refusal(text + "x", max_bytes=100)
    assert error.code == "file_too_large"
    assert str(error) == "s.yaml: file must be at most 100 bytes; got 101"


def test_a_file_past_the_size_bound_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(InputFileError) as caught:
        read_text(path)
    assert caught.value.code == "file_too_large"
    assert f"at most {MAX_BYTES:,} bytes" in str(caught.value)


def test_a_missing_file_and_a_directory_are_refused_with_their_own_codes(tmp_path):
    for path, code in (
        (tmp_path / "absent.yaml", "file_not_found"),
        (tmp_path, "file_is_a_directory"),
        (tmp_path / "absent" / "s.yaml", "file_not_found"),
    ):
        with pytest.raises(InputFileError) as caught:
            read_text(path)
        assert caught.value.code == code, path


# --- TOML and JSON -----------------------------------------------------------------------


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 5_000])
def test_a_toml_file_nested_too_deep_is_refused(tmp_path, levels):
    path = tmp_path / "m.toml"
    path.write_text(f"a = {flow_nesting(levels - 1)}\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read_toml(path)
    assert caught.value.code == "file_too_deep"


def test_a_toml_file_within_the_bounds_is_read(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(f"a = {flow_nesting(MAX_DEPTH - 1)}\n", encoding="utf-8")
    assert "a" in read_toml(path)


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 100_000])
def test_a_json_file_nested_too_deep_is_refused(tmp_path, levels):
    path = tmp_path / "p.json"
    path.write_text(flow_nesting(levels), encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read_json(path)
    assert caught.value.code == "file_too_deep"


# --- what a refusal echoes ---------------------------------------------------------------


def test_a_long_value_is_cut_in_a_message_and_its_length_said():
    error = InputError.for_field("x_invalid", where="f", field="x", rule="short", value="y" * 1_000_000)
    assert len(str(error)) < 300
    assert str(error).endswith("... (1,000,000 characters)")
    assert len(str(Problem("f", 1, "x", "short", "y" * 1_000_000))) < 300


def test_a_strategy_with_thousands_of_unknown_fields_lists_fifty_and_counts_the_rest():
    text = "".join(f"field_{n}: 1\n" for n in range(5_000))
    with pytest.raises(StrategyValidationError) as caught:
        read_strategy(text, "s.yaml")
    message = str(caught.value)
    assert len(caught.value.problems) > 5_000
    assert len(message.splitlines()) == 1 + 50 + 1
    assert message.splitlines()[-1] == f"  ... and {len(caught.value.problems) - 50} more"
