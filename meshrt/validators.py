"""The value rules of a scenario and of algo parameters, in one place.

Every scenario value class (``Scenario`` and everything it holds) checks its fields with
the attrs validators and converters here, so a bad value fails where it is built, with
one line naming the class, the field and the rule: ``FeeSchedule.maker_ppm must be an
integer ppm of notional in [-1000000, 1000000], got 'x'``. ``meshrt.scenario.definition.validate``
re-runs them over a whole scenario, because a value built in code can bypass them
(``object.__setattr__``). Integers are never bools, numbers are finite, and every
integer fits the replay log's signed 64 bits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import attrs

from meshrt.contract import MAX_LABEL

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_NS = 2**62  # year 2116 as epoch ns (recorded data may keep epoch times); two fit 64 bits
MAX_PPM = 1_000_000  # a fee (or a rebate) of the whole notional
PARAM_DEPTH = 32  # nesting of lists and dicts in one parameter value
RESERVED_NAMES = frozenset({"cc"})  # the coordinator's endpoint name on the mesh
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class ScenarioValueError(TypeError, ValueError):
    """A scenario value or parameter of the wrong type or out of range.

    Both a TypeError and a ValueError, so either ``except`` catches it; its message is
    the whole story (``load_scenario`` shows it without the exception's name).
    """


def shown(value: Any) -> str:
    """A short, run-independent picture of a refused value (no memory addresses)."""
    if type(value).__repr__ is object.__repr__:  # type: ignore[comparison-overlap]
        return f"a value of type {type(value).__name__}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse(where: str, rule: str, value: Any) -> NoReturn:
    raise ScenarioValueError(f"{where} must be {rule}, got {shown(value)}")


def _where(instance: object, attribute: attrs.Attribute[Any]) -> str:
    return f"{type(instance).__name__}.{attribute.name}"


def check_name(kind: str, value: Any) -> None:
    """The rule for labels and other names the runtime uses as keys (mesh endpoints,
    mailboxes, log sources ``algo:LABEL``, file and folder names): 1 to 64 ASCII
    letters, digits, ``_``, ``.`` and ``-``, starting with a letter or a digit, and not a
    reserved name (``cc``). No ``:`` (internal endpoints are ``venue:NAME``), no ``/``,
    no leading dot; 64 bytes is what a compiled algo receives of a sender label.
    ScenarioValueError names ``kind`` (e.g. ``Deployment.label``)."""
    if not isinstance(value, str):
        _refuse(kind, "a string", value)
    if not _NAME.fullmatch(value) or len(value) > MAX_LABEL:
        _refuse(
            kind,
            f"1 to {MAX_LABEL} ASCII letters, digits, '_', '.' or '-', starting "
            "with a letter or digit",
            value,
        )
    if value.lower() in RESERVED_NAMES:
        raise ScenarioValueError(
            f"{kind} {value!r} is reserved for the runtime "
            f"(reserved: {', '.join(sorted(RESERVED_NAMES))})"
        )


def check_param(where: str, value: Any, depth: int = 0) -> None:
    """The rule for algo parameters (``Deployment.params`` and ``host.set_param``): a
    JSON value, so the replay log holds it exactly and the same in every run. An int or
    str subclass (``Side.BUY``) is logged as its plain value; a float must be a float
    (a numpy float is refused: convert it with ``float()``)."""
    kind = type(value)
    if value is None or isinstance(value, (bool, str)):
        return
    if (isinstance(value, int) and INT64_MIN <= value <= INT64_MAX) or (
        kind is float and math.isfinite(value)
    ):
        return
    if depth < PARAM_DEPTH:
        if kind is list or kind is tuple:
            for i, item in enumerate(value):
                check_param(f"{where}[{i}]", item, depth + 1)
            return
        if kind is dict:
            for key, item in value.items():
                if type(key) is not str:
                    _refuse(f"{where} keys", "strings", key)
                check_param(f"{where}[{key!r}]", item, depth + 1)
            return
    _refuse(
        where,
        "a JSON value: an int within 64 bits, a finite float, a str, a bool, "
        f"None, or a list or dict with str keys of them (at most {PARAM_DEPTH} deep)",
        value,
    )


@attrs.frozen(slots=True)
class Rule:
    """An attrs validator: ``test(value)`` must hold; the message says ``text``."""

    test: Callable[[Any], bool]
    text: str

    def __call__(self, instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not self.test(value):
            _refuse(_where(instance, attribute), self.text, value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def integer(text: str, low: int = INT64_MIN, high: int = INT64_MAX) -> Rule:
    """An int (not a bool) in ``[low, high]``."""
    return Rule(lambda v: _is_int(v) and low <= v <= high, text)


def optional(rule: Rule) -> Rule:
    return Rule(lambda v: v is None or rule.test(v), f"None or {rule.text}")


def one_of(*choices: Any) -> Rule:
    return Rule(
        lambda v: any(v == c and type(v) is type(c) for c in choices),
        "one of " + ", ".join(repr(c) for c in choices),
    )


def instance_of(cls: type | tuple[type, ...], text: str) -> Rule:
    return Rule(lambda v: isinstance(v, cls), text)


non_negative_ns = integer("a non-negative integer of ns (at most 2**62)", 0, MAX_NS)
positive_ns = integer("a positive integer of ns (at most 2**62)", 1, MAX_NS)
probability = Rule(
    lambda v: (_is_int(v) or isinstance(v, float)) and 0 <= v <= 1, "a probability in [0, 1]"
)
ppm = integer(f"an integer ppm of notional in [-{MAX_PPM}, {MAX_PPM}]", -MAX_PPM, MAX_PPM)
int64 = integer("an integer within 64 bits")
count = optional(integer("an integer >= 0 (within 64 bits)", 0))
text = Rule(lambda v: isinstance(v, str) and v != "", "a non-empty string")
flag = Rule(lambda v: isinstance(v, bool), "True or False")


def name_rule(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator form of ``check_name``."""
    check_name(_where(instance, attribute), value)


def params_rule(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator form of ``check_param`` for a dict of parameters."""
    if type(value) is not dict:
        _refuse(_where(instance, attribute), "a dict of parameters", value)
    check_param(_where(instance, attribute), value)


def tuple_of(member: Rule, what: str) -> Callable[[object, attrs.Attribute[Any], Any], None]:
    """A tuple (``as_tuple`` made one of a list) whose every item passes ``member``; a
    bare string is refused rather than read as a sequence of one-letter names."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        where = _where(instance, attribute)
        if isinstance(value, str):
            raise ScenarioValueError(
                f"{where} must be a list or tuple of {what}, got the string {shown(value)}"
            )
        if type(value) is not tuple:
            _refuse(where, f"a list or tuple of {what}", value)
        for i, item in enumerate(value):
            if not member.test(item):
                _refuse(f"{where}[{i}]", member.text, item)

    return check


def as_tuple(value: Any) -> Any:
    """Converter: a list becomes a tuple; anything else is left for ``tuple_of`` to refuse
    (a set too: it has no stable order, string hashes are salted per process)."""
    return tuple(value) if type(value) is list else value


def as_dict(value: Any) -> Any:
    """Converter: a mapping becomes a (shallow-copied) dict; anything else is refused by
    ``params``."""
    return dict(value) if isinstance(value, Mapping) else value


def require(where: str, rule: Rule, value: Any) -> None:
    """Check a plain argument (e.g. of ``micros``) against a rule."""
    if not rule.test(value):
        _refuse(where, rule.text, value)


finite = Rule(
    lambda v: (_is_int(v) or isinstance(v, float)) and math.isfinite(v), "a finite number"
)
