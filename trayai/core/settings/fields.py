"""What each setting is — kind, bounds, choices, description, default — worked out once from the
schema's type hints and field metadata (core/settings/config.py), so coercion (``config set``,
loading), the dialog's editors and ``config show`` describe a setting in one place.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from trayai.core.errors import ConfigError
from trayai.core.settings.config import LIST_FIELDS

FieldKind = Literal["bool", "int", "float", "str", "object"]


@dataclass(frozen=True)
class FieldSpec:
    """What one setting is, worked out once from its type hint and metadata.

    ``kind`` is the value's type (``object``: a nested dataclass, named by ``nested``, or one of the
    lists in ``LIST_FIELDS`` — never set as one value, and without a ``default`` here); ``optional``
    allows None ("let the server decide"); ``choices`` come from a ``Literal`` annotation. Coercion
    (``config set``, loading), the dialog's editors and ``config show`` all read this, so a setting's
    type is described in one place.
    """

    name: str
    kind: FieldKind
    optional: bool
    minimum: float | None
    maximum: float | None
    choices: tuple[str, ...]
    description: str
    default: Any  # None for kind "object": a shared cached instance must not be handed out
    nested: type[Any] | None = None
    unit: str = ""  # "s", "tokens": shown after the number in the dialog and `config show`
    zero: str = ""  # what the lowest value means ("automatic"), shown instead of it
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)  # choice → words for people

    def label(self, choice: str) -> str:
        """A choice as a person reads it ("Open the chat" for ``chat``)."""
        return self.labels.get(choice, choice)


_KINDS: dict[Any, FieldKind] = {bool: "bool", int: "int", float: "float", str: "str"}


def field_specs(cls: type[Any]) -> Mapping[str, FieldSpec]:
    """Every field of the settings dataclass ``cls``, by name (worked out once per class)."""
    return _field_specs(typing.cast("Hashable", cls))  # mypy does not count a class as Hashable


@functools.cache
def _field_specs(cls: Any) -> Mapping[str, FieldSpec]:
    hints = typing.get_type_hints(cls)
    specs: dict[str, FieldSpec] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        optional = False
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            members = [a for a in typing.get_args(hint) if a is not type(None)]
            optional = len(members) < len(typing.get_args(hint))
            hint = members[0] if len(members) == 1 else object
        choices: tuple[str, ...] = ()
        if typing.get_origin(hint) is Literal:
            choices = tuple(str(a) for a in typing.get_args(hint))
            hint = str
        kind = _KINDS.get(hint, "object")
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        specs[f.name] = FieldSpec(
            name=f.name,
            kind=kind,
            optional=optional,
            minimum=f.metadata.get("min"),
            maximum=f.metadata.get("max"),
            choices=choices,
            description=str(f.metadata.get("description", "")),
            default=None if kind == "object" else default,
            nested=hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None,
            unit=str(f.metadata.get("unit", "")),
            zero=str(f.metadata.get("zero", "")),
            labels=dict(f.metadata.get("labels", {})),
        )
    return specs


def field_spec(cls: type[Any], name: str) -> FieldSpec:
    return field_specs(cls)[name]


def coerce_value(value: Any, spec: FieldSpec) -> Any:
    """Check ``value`` against the setting's kind, bounds and choices; return it typed."""
    if value is None:
        if spec.optional:
            return None
        raise ConfigError("must not be empty")
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"expected true/false, got {value!r}")
        return value
    if spec.kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"expected a number, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):  # JSON's NaN/Infinity/1e400
            raise ConfigError(f"expected a finite number, got {value!r}")
        if spec.kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ConfigError(f"expected a whole number, got {value!r}")
            value = int(value)
        else:
            try:
                value = float(value)
            except OverflowError:
                raise ConfigError("the number is far too large") from None
        low, high = spec.minimum, spec.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise ConfigError(f"{value!r} is outside {low}…{high}")
        return value
    if spec.kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"expected text, got {value!r}")
        if spec.choices and value not in spec.choices:
            raise ConfigError(f"{value!r} is not one of {', '.join(spec.choices)}")
        return value
    return value  # pragma: no cover - every settable field has a kind above


def describe_fields(cls: type[Any], prefix: str = "") -> list[tuple[str, str, Any]]:
    """(dotted key, description, default) for every setting — for ``config show`` and the docs."""
    return [(key, spec.description, spec.default) for key, spec in setting_specs(cls, prefix)]


def setting_specs(cls: type[Any], prefix: str = "") -> list[tuple[str, FieldSpec]]:
    """(dotted key, spec) for every single-valued setting of ``cls``, nested ones flattened."""
    rows: list[tuple[str, FieldSpec]] = []
    for spec in field_specs(cls).values():
        if spec.nested is not None:
            rows.extend(setting_specs(spec.nested, f"{prefix}{spec.name}."))
        elif spec.name not in LIST_FIELDS:
            rows.append((f"{prefix}{spec.name}", spec))
    return rows
