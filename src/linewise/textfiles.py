"""Settings files a user hands linewise, read within stated bounds.

Strategy files (YAML), import mappings (TOML) and portfolio manifests (JSON) all go
through here, so that no file can make linewise hang, exhaust memory or overflow
Python's stack, whatever it holds. The bounds, and why they are what they are:

- :data:`MAX_BYTES` (1,000,000): a strategy or a mapping is a page of settings (the
  shipped strategy is 3.5 KB); a megabyte still parses in about a second.
- :data:`MAX_DEPTH` (32 levels of nesting, the top mapping being level 1): the
  shipped strategy nests 5 levels, a challenger overriding a gate 7; 32 keeps every
  recursive step that follows (validation, merging an arm's overrides) far from
  Python's recursion limit.
- YAML aliases (``*name``) are refused. No linewise YAML needs them (an arm's
  overrides already say only what differs from the champion), and aliases are how a
  342-byte file expands to a billion nodes ("billion laughs"), repeats one long
  string in a thousand places, or refers to itself. An anchor (``&name``) without an
  alias changes nothing and is allowed.

A file past a bound is refused with :class:`~linewise.errors.InputFileError` and one
of the codes ``file_not_found``, ``file_is_a_directory``, ``file_unreadable``,
``file_too_large``, ``file_not_utf8``, ``file_too_deep``, ``yaml_alias_not_allowed``;
``where`` is the file, with the line when the format tells it. Syntax errors are the
format's own (``yaml.YAMLError``, ``tomllib.TOMLDecodeError``, ``ValueError`` from
``json``) for the caller to report in its own words.
"""

from __future__ import annotations

import errno
import json
import os
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from linewise.errors import InputFileError

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "YamlDocument",
    "check_depth",
    "parse_yaml",
    "read_json",
    "read_text",
    "read_toml",
]

MAX_BYTES = 1_000_000
MAX_DEPTH = 32

# libyaml when PyYAML was built with it (its parser is about 20 times faster);
# the pure-Python parser otherwise. Both are safe loaders: no Python objects.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_OPEN_ERRORS = {
    errno.ENOENT: ("file_not_found", "an existing file"),
    errno.EISDIR: ("file_is_a_directory", "a file, not a directory"),
    errno.ENOTDIR: ("file_not_found", "an existing file"),
}


def read_text(path: Path, *, max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of ``path``, refused past ``max_bytes`` without reading further."""
    source = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
            size = os.fstat(handle.fileno()).st_size  # 0 for a pipe or a device
    except OSError as exc:
        code, rule = _OPEN_ERRORS.get(exc.errno or 0, ("file_unreadable", "a readable file"))
        raise InputFileError.for_field(
            code, where=source, field="file", rule=rule, value=exc.strerror or str(exc)
        ) from None
    if len(data) > max_bytes:
        raise _too_large(source, max_bytes, size if size > max_bytes else f"more than {max_bytes:,}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError.for_field(
            "file_not_utf8", where=source, field="file", rule="UTF-8 text", value=f"byte {exc.start}"
        ) from None


@dataclass(frozen=True)
class YamlDocument:
    """A YAML document: its node tree (with line marks) and the plain data built from it.

    ``node`` is None, and ``data`` None, for a document with no content.
    """

    node: yaml.Node | None
    data: Any


def parse_yaml(text: str, source: str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> YamlDocument:
    """The one YAML document in ``text``, once it is known to be within the bounds.

    The events are checked first (size, nesting depth, no alias), without building
    anything; only a file within the bounds is composed. Raises
    :class:`~linewise.errors.InputFileError` past a bound and ``yaml.YAMLError`` for
    a syntax error.
    """
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise _too_large(source, max_bytes, size)
    _check_events(text, source, max_depth)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()
    return YamlDocument(node, data)


def _check_events(text: str, source: str, max_depth: int) -> None:
    try:
        _check_event_stream(yaml.parse(text, Loader=_Loader), source, max_depth)
    except yaml.MarkedYAMLError as exc:
        # libyaml stops at 1,000 levels on its own, and may get there while it looks
        # ahead, before the events that would cross our bound have been handed out.
        if "maximum nesting depth" not in str(exc.problem):
            raise
        where = source if exc.problem_mark is None else f"{source}:{exc.problem_mark.line + 1}"
        raise _too_deep(where, max_depth, "more than 1,000") from None


def _check_event_stream(events: Iterator[yaml.Event], source: str, max_depth: int) -> None:
    depth = 0
    for event in events:
        if isinstance(event, yaml.AliasEvent):
            raise InputFileError.for_field(
                "yaml_alias_not_allowed",
                where=_at(source, event),
                field="YAML",
                rule="free of aliases (write each value out where it is used)",
                value=f"*{event.anchor}",
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > max_depth:
                raise _too_deep(_at(source, event), max_depth, depth)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def read_toml(path: Path, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The TOML table in ``path``, within the bounds.

    Raises :class:`~linewise.errors.InputFileError` past a bound and
    ``tomllib.TOMLDecodeError`` for a syntax error.
    """
    data: dict[str, Any] = _parsed(path, tomllib.loads, max_bytes=max_bytes, max_depth=max_depth)
    return data


def read_json(path: Path, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in ``path``, within the bounds.

    Raises :class:`~linewise.errors.InputFileError` past a bound and ``ValueError``
    (``json.JSONDecodeError``) for a syntax error.
    """
    return _parsed(path, json.loads, max_bytes=max_bytes, max_depth=max_depth)


def _parsed(path: Path, loads: Callable[[str], Any], *, max_bytes: int, max_depth: int) -> Any:
    """``loads`` of the text of ``path``, within the bounds (the parsers recurse into nesting)."""
    text = read_text(path, max_bytes=max_bytes)
    try:
        data = loads(text)
    except RecursionError:
        raise _too_deep(str(path), max_depth, f"more than {max_depth}") from None
    check_depth(data, str(path), max_depth=max_depth)
    return data


def check_depth(value: Any, source: str, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuse ``value`` when its dicts and lists nest more than ``max_depth`` levels.

    Walks with a stack of its own, so that any depth is measured without recursion.
    """
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise _too_deep(source, max_depth, depth)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _at(source: str, event: yaml.Event) -> str:
    mark = event.start_mark
    return source if mark is None else f"{source}:{mark.line + 1}"


def _too_large(source: str, max_bytes: int, size: object) -> InputFileError:
    return InputFileError.for_field(
        "file_too_large", where=source, field="file", rule=f"at most {max_bytes:,} bytes", value=size
    )


def _too_deep(where: str, max_depth: int, depth: object) -> InputFileError:
    return InputFileError.for_field(
        "file_too_deep", where=where, field="nesting", rule=f"at most {max_depth} levels deep", value=depth
    )
