"""Settings defined once: a dataclass field carries its flags, help and CLI parsing.

How this works
--------------
A server's settings are the fields of one frozen dataclass (``ServerConfig`` of the
eventloop server, ``PreforkConfig`` of the prefork server). Each field is declared with
``setting(default, *flags, help=...)``, which stores the command-line description in the
field's metadata. From the dataclass alone, ``add_arguments`` builds the argparse
options, ``from_namespace`` builds the config from parsed options and ``markdown_table``
writes the table of ``docs/servers.md``: a setting's name, default, flags and help
cannot drift apart. Validation stays in each dataclass's ``__post_init__``.

Options default to ``None`` in the parser ("not given"), so the dataclass default is the
only default; the help shows it. Booleans are switches: a default of False gives a
``store_true`` flag, a default of True a flag that turns the setting off — unless the
setting lists ``choices`` (then the value is parsed by ``parse``). A switch may also
name ``off_flags`` (``--no-access-log``) that set it back to False.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from typing import Any

_TYPES: dict[str, Callable[[str], Any]] = {"int": int, "float": float}


def setting(
    default: Any,
    *flags: str,
    help: str,
    metavar: str | None = None,
    choices: tuple[str, ...] | None = None,
    parse: Callable[[Any], Any] | None = None,
    shown: str | None = None,
    append: bool = False,
    **extra: Any,
) -> Any:
    """A dataclass field with its command-line option.

    Args:
        default: the setting's default (the only one: the parser's is ``None``).
        flags: the option strings, e.g. ``"-w", "--workers"``.
        help: one phrase for ``--help`` and the docs; the default is appended.
        metavar: the value's name in ``--help``.
        choices: the accepted command-line values.
        parse: turns the command-line value into the field's value (e.g. ``0`` → ``None``).
        shown: how the default is written in ``--help`` and the docs (else derived).
        append: the option may be repeated; the field gets a tuple.
        extra: further metadata (read by the config's own helpers).
    """
    meta = option(
        *flags,
        help=help,
        metavar=metavar,
        choices=choices,
        parse=parse,
        shown=shown,
        append=append,
        **extra,
    )
    return dataclasses.field(default=default, metadata=meta)


def option(
    *flags: str,
    help: str,
    metavar: str | None = None,
    choices: tuple[str, ...] | None = None,
    parse: Callable[[Any], Any] | None = None,
    shown: str | None = None,
    append: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """The field metadata ``setting`` stores (for a ``dataclasses.field(metadata=...)``)."""
    return {
        "flags": flags,
        "help": help,
        "metavar": metavar,
        "choices": choices,
        "parse": parse,
        "shown": shown,
        "append": append,
        **extra,
    }


def cli_fields(cls: type) -> list[dataclasses.Field[Any]]:
    """The fields of ``cls`` that have a command-line option, in declaration order."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get("flags")]


def _base_type(f: dataclasses.Field[Any]) -> str:
    return str(f.type).replace(" | None", "").strip()


def _is_switch(f: dataclasses.Field[Any]) -> bool:
    return _base_type(f) == "bool" and not f.metadata.get("choices")


def shown_default(f: dataclasses.Field[Any]) -> str | None:
    """The default as ``--help`` and the docs write it (None: nothing worth showing)."""
    meta = f.metadata
    if meta.get("shown") is not None:
        return str(meta["shown"])
    value = f.default
    if _is_switch(f) or value is None or value in ("", ()):
        return None
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def help_text(f: dataclasses.Field[Any]) -> str:
    """The field's help with its default appended."""
    shown = shown_default(f)
    text = str(f.metadata["help"])
    return f"{text} (default {shown})" if shown is not None else text


def add_arguments(cls: type, parser: argparse.ArgumentParser) -> None:
    """Add one option per setting of ``cls`` to ``parser`` (defaults stay ``None``)."""
    for f in cli_fields(cls):
        meta = f.metadata
        kwargs: dict[str, Any] = {
            "dest": f.name,
            "default": None,
            "help": help_text(f).replace("%", "%%"),
        }
        if _is_switch(f):
            kwargs["action"] = "store_const"
            kwargs["const"] = not f.default
        else:
            if meta.get("append"):
                kwargs["action"] = "append"
            kwargs["metavar"] = meta.get("metavar")
            kwargs["type"] = _TYPES.get(_base_type(f), str)
            if meta.get("choices"):
                kwargs["choices"] = meta["choices"]
        parser.add_argument(*meta["flags"], **kwargs)
        if meta.get("off_flags"):
            parser.add_argument(
                *meta["off_flags"],
                dest=f.name,
                default=None,
                action="store_const",
                const=False,
                help=f"turn {meta['flags'][-1]} off",
            )


def namespace_values(cls: type, args: argparse.Namespace) -> dict[str, Any]:
    """The settings of ``cls`` given in ``args``, as field values (not given: absent)."""
    values: dict[str, Any] = {}
    for f in cli_fields(cls):
        value = getattr(args, f.name, None)
        if value is None:
            continue
        if isinstance(value, list):
            value = tuple(value)
        parse = f.metadata.get("parse")
        values[f.name] = parse(value) if parse is not None else value
    return values


def markdown_table(cls: type) -> str:
    """A markdown table of the settings of ``cls``: setting, flags, default, meaning."""
    lines = ["| setting | flags | default | meaning |", "|---|---|---|---|"]
    for f in cli_fields(cls):
        all_flags = (*f.metadata["flags"], *(f.metadata.get("off_flags") or ()))
        flags = ", ".join(f"`{flag}`" for flag in all_flags)
        shown = shown_default(f)
        if _is_switch(f):
            shown = "on" if f.default else "off"
        default = f"`{shown}`" if shown is not None else "—"
        text = str(f.metadata["help"]).replace("|", "\\|")
        lines.append(f"| `{f.name}` | {flags} | {default} | {text} |")
    return "\n".join(lines) + "\n"
