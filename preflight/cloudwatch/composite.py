"""Composite alarm rules and actions suppressors.

Rule grammar from "Create a composite alarm" / PutCompositeAlarm `AlarmRule`: ALARM("name"),
OK("name"), INSUFFICIENT_DATA("name") (quotes optional), TRUE, FALSE, AND, OR, NOT and parentheses;
NOT binds tightest, then AND, then OR.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Union

TOKEN = re.compile(
    r'\s*(?:(ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?:"([^"]*)"|([^)\s]*))\s*\)|(AND|OR|NOT|TRUE|FALSE)\b|([()]))')

Rule = Union[tuple, bool]


class RuleError(ValueError):
    pass


def parse_rule(text: str) -> Rule:
    tokens: list[tuple[str, ...]] = []
    position = 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = TOKEN.match(text, position)
        if not match:
            raise RuleError(f"cannot read {text[position:]!r} in alarm rule {text!r}")
        if match.group(1):
            tokens.append(("STATE", match.group(1), match.group(2) if match.group(2) is not None else match.group(3)))
        else:
            tokens.append((match.group(4) or match.group(5),))
        position = match.end()
    parser = _Parser(tokens, text)
    rule = parser.or_()
    if parser.position != len(tokens):
        raise RuleError(f"unexpected {tokens[parser.position][0]} in alarm rule {text!r}")
    return rule


class _Parser:
    def __init__(self, tokens: list[tuple[str, ...]], text: str) -> None:
        self.tokens, self.position, self.text = tokens, 0, text

    def _peek(self) -> str:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else ""

    def or_(self) -> Rule:
        rule = self.and_()
        while self._peek() == "OR":
            self.position += 1
            rule = ("OR", rule, self.and_())
        return rule

    def and_(self) -> Rule:
        rule = self.not_()
        while self._peek() == "AND":
            self.position += 1
            rule = ("AND", rule, self.not_())
        return rule

    def not_(self) -> Rule:
        if self._peek() == "NOT":
            self.position += 1
            return ("NOT", self.not_())
        return self.atom()

    def atom(self) -> Rule:
        if self.position >= len(self.tokens):
            raise RuleError(f"alarm rule {self.text!r} ends early")
        token = self.tokens[self.position]
        self.position += 1
        if token[0] == "STATE":
            return token
        if token[0] in ("TRUE", "FALSE"):
            return token[0] == "TRUE"
        if token[0] == "(":
            rule = self.or_()
            if self._peek() != ")":
                raise RuleError(f"missing ) in alarm rule {self.text!r}")
            self.position += 1
            return rule
        raise RuleError(f"unexpected {token[0]} in alarm rule {self.text!r}")


def members(rule: Rule) -> set[str]:
    if isinstance(rule, bool):
        return set()
    if rule[0] == "STATE":
        return {rule[2]}
    return set().union(*(members(r) for r in rule[1:]))


def holds(rule: Rule, state_of: Callable[[str], str]) -> bool:
    if isinstance(rule, bool):
        return rule
    kind = rule[0]
    if kind == "STATE":
        return state_of(rule[2]) == rule[1]
    if kind == "NOT":
        return not holds(rule[1], state_of)
    if kind == "AND":
        return holds(rule[1], state_of) and holds(rule[2], state_of)
    return holds(rule[1], state_of) or holds(rule[2], state_of)


def composite_state(rule: Rule, states: Mapping[str, str]) -> str:
    """ALARM when the rule holds, OK otherwise (a member without a state yet counts as INSUFFICIENT_DATA)."""
    if holds(rule, lambda name: states.get(name, "INSUFFICIENT_DATA")):
        return "ALARM"
    return "OK"
