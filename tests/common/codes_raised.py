"""Every error code the source of linewise can raise, found by reading it (``ast``), not by running it.

What counts as raising a code:

- the code argument (first positional, or ``code=``) of a call to an error class of
  :mod:`linewise.errors` or its ``for_field``, of ``super().__init__`` / ``cls(...)``
  inside one, and of any helper function that passes one of its own parameters on as
  such a code (``_reject(code, ...)``, ``_refused(...)``; found to a fixed point);
- the default of such a parameter (``code: str = "database_unreachable"``);
- a ``code = "..."`` attribute of an error class;
- the ``[code]`` a command-line error line ends with (usage errors, OS errors).

A code argument is read as a literal, either branch of ``a if c else b``, a local
name assigned one of those (tuple unpacking included), or a lookup in a module-level
dict of literals (``_CODES[k]``, ``_CODES.get(k, "default")``). An f-string is a
pattern (``line_{status}`` matches ``line_frozen``). Anything else is *unresolved*: the
sweep names it, so that no code slips past by being computed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src" / "linewise"
_ROOT_ERROR = "LinewiseError"
_LINE_CODE = re.compile(r" \[([a-z][a-z0-9]*_[a-z0-9_]*)\]$")


@dataclass(frozen=True)
class Raised:
    """A code (or an f-string pattern of codes) and where it is raised."""

    code: str
    where: str
    pattern: bool = False

    def matches(self, code: str) -> bool:
        """Whether ``code`` is this code, or fits this pattern."""
        if not self.pattern:
            return code == self.code
        parts = [re.escape(part) for part in self.code.split("{}")]
        return re.fullmatch("[a-z0-9_]+".join(parts), code) is not None


@dataclass
class _Sink:
    """A callable that takes a code: the position (None if keyword-only) and name of that parameter."""

    position: int | None
    name: str


@dataclass
class Sweep:
    """The codes found, and the code arguments the sweep could not read."""

    raised: list[Raised] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


@dataclass
class _Module:
    name: str
    tree: ast.Module
    dicts: dict[str, ast.Dict]
    # Every call with its enclosing function and class, in the tree's order; and by the
    # id of the enclosing function. Read once: the sinks' fixed point asks per function.
    calls: list[tuple[ast.FunctionDef | None, str | None, ast.Call]] = field(default_factory=list)
    calls_in: dict[int, list[tuple[ast.FunctionDef | None, str | None, ast.Call]]] = field(default_factory=dict)


def sweep(root: Path = SOURCE) -> Sweep:
    """Every code raised in the Python files under ``root``."""
    modules = [_parse(path, root) for path in sorted(root.rglob("*.py"))]
    classes = _error_classes(modules)
    sinks = _sinks(modules, classes)
    out = Sweep()
    for module in modules:
        for scope, call, argument in _code_arguments(module, classes, sinks):
            where = f"{module.name}:{call.lineno}"
            found = _values(argument, scope, module)
            if found is None:
                if not _is_parameter(argument, scope):
                    out.unresolved.append(f"{where}: {ast.unparse(argument)}")
                continue
            out.raised += [Raised(code, where, pattern) for code, pattern in found]
        out.raised += _attributes_and_defaults(module, classes, sinks)
        out.raised += _line_codes(module)
    return out


def _parse(path: Path, root: Path) -> _Module:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    dicts = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name) and isinstance(node.value, ast.Dict)
    }
    module = _Module(str(path.relative_to(root.parent)), tree, dicts)
    module.calls = list(_calls(tree))
    for found in module.calls:
        module.calls_in.setdefault(id(found[0]), []).append(found)
    return module


def _error_classes(modules: list[_Module]) -> dict[str, ast.ClassDef]:
    """Every class that derives from LinewiseError, by name."""
    every = {node.name: node for module in modules for node in ast.walk(module.tree) if isinstance(node, ast.ClassDef)}
    found: dict[str, ast.ClassDef] = {}
    changed = True
    while changed:
        changed = False
        for name, node in every.items():
            bases = {base.id for base in node.bases if isinstance(base, ast.Name)}
            if name not in found and (name == _ROOT_ERROR or bases & set(found)):
                found[name] = node
                changed = True
    return found


def _parent(node: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> str | None:
    return next((base.id for base in node.bases if isinstance(base, ast.Name) and base.id in classes), None)


def _method(name: str, method: str, classes: dict[str, ast.ClassDef]) -> str | None:
    """The qualified name (``Class.method``) of the ``method`` a class ``name`` has, own or inherited."""
    current: str | None = name
    while current is not None:
        node = classes[current]
        if any(isinstance(item, ast.FunctionDef) and item.name == method for item in node.body):
            return f"{current}.{method}"
        current = _parent(node, classes)
    return None


def _functions(modules: list[_Module]) -> Iterator[tuple[_Module, str, ast.FunctionDef, str | None]]:
    """Every function: its module, qualified name (``Class.method`` or ``name``), node and class."""
    for module in modules:
        for node in module.tree.body:
            if isinstance(node, ast.FunctionDef):
                yield module, node.name, node, None
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        yield module, f"{node.name}.{item.name}", item, node.name


def _parameters(function: ast.FunctionDef) -> tuple[list[str], list[str]]:
    """(positional parameters without self/cls, keyword-only parameters)."""
    positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if positional and positional[0] in ("self", "cls"):
        positional = positional[1:]
    return positional, [a.arg for a in function.args.kwonlyargs]


def _sinks(modules: list[_Module], classes: dict[str, ast.ClassDef]) -> dict[str, _Sink]:
    """Every callable that takes a code, by qualified name, found to a fixed point.

    The seed is a function that stores a parameter as ``self.code``; a function that
    passes one of its parameters to a sink's code argument is a sink too.
    """
    functions = list(_functions(modules))
    sinks: dict[str, _Sink] = {}
    for _, qualified, node, _ in functions:
        for stored in ast.walk(node):
            if (
                isinstance(stored, ast.Assign)
                and isinstance(stored.value, ast.Name)
                and any(isinstance(t, ast.Attribute) and t.attr == "code" for t in stored.targets)
            ):
                sinks[qualified] = _sink_of(node, stored.value.id)
    changed = True
    while changed:
        changed = False
        for module, qualified, node, _ in functions:
            if qualified in sinks:
                continue
            for _, _, argument in _code_arguments(module, classes, sinks, only=node):
                if _is_parameter(argument, node):
                    assert isinstance(argument, ast.Name)
                    sinks[qualified] = _sink_of(node, argument.id)
                    changed = True
                    break
    return sinks


def _sink_of(function: ast.FunctionDef, parameter: str) -> _Sink:
    positional, _ = _parameters(function)
    return _Sink(positional.index(parameter) if parameter in positional else None, parameter)


def _is_parameter(argument: ast.expr, scope: ast.FunctionDef | None) -> bool:
    if scope is None or not isinstance(argument, ast.Name):
        return False
    positional, keyword_only = _parameters(scope)
    return argument.id in (*positional, *keyword_only)


def _code_arguments(
    module: _Module,
    classes: dict[str, ast.ClassDef],
    sinks: dict[str, _Sink],
    only: ast.FunctionDef | None = None,
) -> Iterator[tuple[ast.FunctionDef | None, ast.Call, ast.expr]]:
    """(enclosing function, call, code argument) of every call to a sink in ``module`` (in ``only``, when given)."""
    calls = module.calls if only is None else module.calls_in.get(id(only), [])
    for scope, owner, call in calls:
        target = _target(call, owner, classes, sinks)
        if target is None:
            continue
        sink = sinks[target]
        keyword = next((k.value for k in call.keywords if k.arg == sink.name), None)
        if keyword is not None:
            yield scope, call, keyword
        elif sink.position is not None and sink.position < len(call.args):
            yield scope, call, call.args[sink.position]


def _calls(tree: ast.AST) -> Iterator[tuple[ast.FunctionDef | None, str | None, ast.Call]]:
    """Every call with its enclosing function and class (the innermost ones)."""

    def visit(
        node: ast.AST, scope: ast.FunctionDef | None, owner: str | None
    ) -> Iterator[tuple[ast.FunctionDef | None, str | None, ast.Call]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                yield from visit(child, scope, child.name)
            elif isinstance(child, ast.FunctionDef):
                yield from visit(child, child, owner)
            else:
                if isinstance(child, ast.Call):
                    yield scope, owner, child
                yield from visit(child, scope, owner)

    yield from visit(tree, None, None)


def _target(call: ast.Call, owner: str | None, classes: dict[str, ast.ClassDef], sinks: dict[str, _Sink]) -> str | None:
    """The sink ``call`` calls (qualified name), if it calls one."""
    func = call.func
    if isinstance(func, ast.Name):
        if func.id in classes:
            qualified = _method(func.id, "__init__", classes)
        elif func.id == "cls" and owner in classes:
            qualified = _method(owner, "__init__", classes)
        else:
            qualified = func.id
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in classes:
        qualified = _method(func.value.id, func.attr, classes)
    elif (
        isinstance(func, ast.Attribute)
        and func.attr == "__init__"
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id == "super"
        and owner in classes
    ):
        parent = _parent(classes[owner], classes)
        qualified = None if parent is None else _method(parent, "__init__", classes)
    else:
        return None
    return qualified if qualified in sinks else None


# --- reading a code argument --------------------------------------------------------------------


def _values(
    node: ast.expr,
    scope: ast.FunctionDef | None,
    module: _Module,
) -> list[tuple[str, bool]] | None:
    """The codes ``node`` can be, as (code or pattern, is a pattern); None when not readable."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [(node.value, False)]
    if isinstance(node, ast.JoinedStr):
        text = "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
        return [(text, True)]
    if isinstance(node, ast.IfExp):
        body, orelse = _values(node.body, scope, module), _values(node.orelse, scope, module)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.Name) and scope is not None:
        return _assigned(node.id, scope, module)
    return _looked_up(node, module, None)


def _assigned(name: str, scope: ast.FunctionDef, module: _Module) -> list[tuple[str, bool]] | None:
    """What the local ``name`` is assigned in ``scope`` (each assignment), as :func:`_values` reads it."""
    found: list[tuple[str, bool]] = []
    seen = False
    for node in ast.walk(scope):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id == name:
                values = _values(node.value, scope, module)
            elif isinstance(target, ast.Tuple) and any(isinstance(e, ast.Name) and e.id == name for e in target.elts):
                index = next(i for i, e in enumerate(target.elts) if isinstance(e, ast.Name) and e.id == name)
                values = _looked_up(node.value, module, index)
            else:
                continue
            if values is None:
                return None
            seen = True
            found += values
    return found if seen else None


def _looked_up(node: ast.expr, module: _Module, index: int | None) -> list[tuple[str, bool]] | None:
    """The values of a module-level dict ``node`` looks up (``D[k]`` or ``D.get(k, default)``).

    ``index`` picks an element of tuple values (for ``code, rule = D.get(...)``).
    """
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        table, default = module.dicts.get(node.value.id), None
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.func.value, ast.Name)
    ):
        table = module.dicts.get(node.func.value.id)
        default = node.args[1] if len(node.args) > 1 else None
    else:
        return None
    if table is None:
        return None
    values: list[ast.expr] = [v for k, v in zip(table.keys, table.values, strict=True) if k is not None]
    values += [
        call.args[1]
        for k, call in zip(table.keys, table.values, strict=True)
        if k is None and isinstance(call, ast.Call) and len(call.args) == 2
    ]  # **dict.fromkeys(keys, v)
    if default is not None:
        values.append(default)
    found: list[tuple[str, bool]] = []
    for value in values:
        if index is not None:
            if not isinstance(value, ast.Tuple):
                return None
            value = value.elts[index]
        read = _values(value, None, module)
        if read is None:
            return None
        found += read
    return found


def _attributes_and_defaults(
    module: _Module, classes: dict[str, ast.ClassDef], sinks: dict[str, _Sink]
) -> Iterator[Raised]:
    """``code = "..."`` on an error class; a string default of a sink's code parameter."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ClassDef) and node.name in classes:
            for item in node.body:
                if (
                    isinstance(item, ast.Assign)
                    and isinstance(item.value, ast.Constant)
                    and any(isinstance(t, ast.Name) and t.id == "code" for t in item.targets)
                ):
                    yield Raised(str(item.value.value), f"{module.name}:{item.lineno}")
    for _, qualified, function, _ in _functions([module]):
        sink = sinks.get(qualified)
        if sink is None:
            continue
        arguments = function.args
        pairs = [
            *zip(arguments.args[len(arguments.args) - len(arguments.defaults) :], arguments.defaults, strict=True),
            *((a, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True) if d is not None),
        ]
        for argument, default in pairs:
            if argument.arg == sink.name and isinstance(default, ast.Constant) and isinstance(default.value, str):
                yield Raised(default.value, f"{module.name}:{function.lineno}")


def _line_codes(module: _Module) -> Iterator[Raised]:
    """The ``[code]`` that ends an error line the command line prints: a literal, or ``[{code}]``."""
    for scope in (node for node in ast.walk(module.tree) if isinstance(node, ast.FunctionDef)):
        for node in ast.walk(scope):
            where = f"{module.name}:{getattr(node, 'lineno', scope.lineno)}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if match := _LINE_CODE.search(node.value):
                    yield Raised(match.group(1), where)
            elif isinstance(node, ast.JoinedStr) and len(node.values) >= 3:
                before, named, after = node.values[-3:]
                if (
                    isinstance(before, ast.Constant)
                    and str(before.value).endswith("[")
                    and isinstance(after, ast.Constant)
                    and after.value == "]"
                    and isinstance(named, ast.FormattedValue)
                    and isinstance(named.value, ast.Name)
                    and named.value.id == "code"
                ):
                    for code, pattern in _assigned("code", scope, module) or []:
                        yield Raised(code, where, pattern)
