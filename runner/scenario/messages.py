"""Turn a pydantic ValidationError on a scenario into one line a person can act on.

How this works: pydantic reports locations in its own terms (union member names, the
discriminator's tag: ``('servers', 2, 'prefork', 'workers', 0)``). We keep only the
parts that exist in the YAML data, render them as a YAML path (``servers[2].workers[0]``),
find the line of that node in the file (``yaml.compose`` keeps marks), and phrase the
problem with what is allowed. When a union produced several errors for one field we
show the most specific one (the deepest path).
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

Loc = tuple[str | int, ...]


def yaml_path(loc: Loc) -> str:
    """``('servers', 2, 'workers')`` -> ``servers[2].workers``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def clean_loc(loc: Loc, data: Any, *, missing: bool = False) -> Loc:
    """Keep only the location parts that address real YAML nodes (plus a final missing key)."""
    kept: list[str | int] = []
    node = data
    last = len(loc) - 1
    for i, part in enumerate(loc):
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            kept.append(part)
            node = node[part]
        elif missing and i == last and isinstance(node, dict) and isinstance(part, str):
            kept.append(part)  # the required key that is missing
        # else: a pydantic-internal part (union member, tag), or index 0 of a scalar
        # the schema promoted to a list (``workers: 2``): not a YAML node.
    return tuple(kept)


def line_of(text: str | None, loc: Loc) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (or of its deepest existing parent)."""
    if not text:
        return None
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _describe(err: ErrorDetails, loc: Loc, server_kinds: tuple[str, ...]) -> tuple[Loc, str]:
    """Return the (possibly extended) location and the message for one error."""
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    given = err.get("input")
    if kind == "unknown_field":
        return (*loc, ctx["field"]), f"unknown field {ctx['field']!r}; allowed: {ctx['allowed']}"
    if kind == "literal_error":
        allowed = str(ctx.get("expected", "")).replace(" or ", ", ")
        return loc, f"got {given!r}; allowed: {allowed}"
    if kind == "union_tag_invalid":
        tags = str(ctx.get("expected_tags", "")).replace("'", "")
        return (*loc, "server"), f"unknown server {ctx.get('tag')!r}; allowed: {tags}"
    if kind == "union_tag_not_found":
        allowed = ", ".join(server_kinds)
        return (*loc, "server"), f"required field is missing; allowed: {allowed}"
    if kind == "missing":
        return loc, "required field is missing"
    if kind == "located":
        extra = tuple(int(p) if p.isdigit() else p for p in str(ctx["at"]).split("."))
        return (*loc, *extra), str(ctx["problem"])
    msg = err["msg"]
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
    elif kind in {"tuple_type", "list_type", "dict_type", "model_type", "model_attributes_type"}:
        msg = f"{msg[0].lower()}{msg[1:]}"
        return loc, f"{msg}; got {given!r}"
    elif given is not None and not isinstance(given, dict | list):
        msg = f"{msg[0].lower()}{msg[1:]}; got {given!r}"
    return loc, msg


def _clean(err: ErrorDetails, data: Any) -> Loc:
    return clean_loc(err["loc"], data, missing=err["type"] == "missing")


def format_validation_error(
    exc: ValidationError,
    source: str,
    data: Any,
    text: str | None = None,
    *,
    server_kinds: tuple[str, ...] = (),
) -> str:
    """One line: ``FILE[:LINE]: at PATH: problem; allowed: ...`` (+ how many more errors).

    ``data`` is the parsed YAML that failed; ``text`` its source, to find line numbers;
    ``server_kinds`` the servers a scenario may name (for a server entry without one).
    """
    errors = exc.errors()
    first_top = errors[0]["loc"][:1]
    group = [e for e in errors if e["loc"][:1] == first_top]
    described = [_describe(e, _clean(e, data), server_kinds) for e in group]
    loc, message = max(described, key=lambda item: len(item[0]))
    line = line_of(text, loc)
    where = f"{source}:{line}" if line else source
    more = len({_clean(e, data)[:1] for e in errors}) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
    return f"{where}: at {yaml_path(loc)}: {message}{suffix}"


def yaml_error(exc: yaml.YAMLError, source: str) -> str:
    """One line for a YAML syntax error."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"{source}:{mark.line + 1}: YAML syntax error at column {mark.column + 1}: {problem}"
    return f"{source}: YAML syntax error: {problem}"
