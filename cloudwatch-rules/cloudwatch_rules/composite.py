"""Composite alarm rules: the one grammar the policy pack checks and the CloudWatch model evaluates.

Rule grammar from "Create a composite alarm" / PutCompositeAlarm `AlarmRule`: ALARM("name"),
OK("name"), INSUFFICIENT_DATA("name") (quotes optional, the name not empty), TRUE, FALSE, AND, OR,
NOT and parentheses; NOT binds tightest, then AND, then OR. A rule that does not parse is one
CloudWatch rejects at deploy time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Union

MAX_RULE_LENGTH = 10_240

_TOKEN = re.compile(
    r'\s*(?:(?P<paren>[()])|(?P<op>AND|OR|NOT)\b|(?P<const>TRUE|FALSE)\b'
    r'|(?P<state>ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?:"(?P<quoted>[^"]+)"|(?P<bare>[^()"\s][^()"]*?))\s*\))'
)

# ("STATE", state, alarm name) | ("NOT", rule) | ("AND" | "OR", rule, rule) | TRUE / FALSE
Rule = Union[tuple, bool]


class RuleError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, ...]]:
    tokens: list[tuple[str, ...]] = []
    position = 0
    while text[position:].strip():
        match = _TOKEN.match(text, position)
        if not match:
            raise RuleError(f"cannot parse the rule at character {position}: {text[position:position + 30]!r}")
        if match.group("state"):
            tokens.append(("STATE", match.group("state"), match.group("quoted") or match.group("bare")))
        else:
            tokens.append((match.group("paren") or match.group("op") or match.group("const"),))
        position = match.end()
    return tokens


def parse_rule(text: str) -> Rule:
    """The rule as a tree; raises RuleError where CloudWatch would reject it."""
    parser = _Parser(_tokens(text))
    rule = parser.or_()
    if parser.position != len(parser.tokens):
        raise RuleError(f"unexpected {parser.tokens[parser.position][0]!r} after a complete expression")
    return rule


class _Parser:
    def __init__(self, tokens: list[tuple[str, ...]]) -> None:
        self.tokens, self.position = tokens, 0

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
            raise RuleError("the rule ends where a condition is expected")
        token = self.tokens[self.position]
        self.position += 1
        if token[0] == "STATE":
            return token
        if token[0] in ("TRUE", "FALSE"):
            return token[0] == "TRUE"
        if token[0] == "(":
            rule = self.or_()
            if self._peek() != ")":
                raise RuleError("a parenthesis is not closed")
            self.position += 1
            return rule
        raise RuleError(f"unexpected {token[0]!r} where a condition is expected")


def referenced_alarms(rule: Rule) -> list[str]:
    """The alarm names the rule refers to, in the order they appear (repeats kept)."""
    if isinstance(rule, bool):
        return []
    if rule[0] == "STATE":
        return [rule[2]]
    return [name for part in rule[1:] for name in referenced_alarms(part)]


def conjunctions(rule: Rule) -> list[tuple[str, ...]]:
    """The `ALARM(a) AND ALARM(b) ...` terms of a rule: alarms that count only while all are in ALARM."""
    if isinstance(rule, bool) or rule[0] == "STATE":
        return []
    if rule[0] == "AND":
        names = _all_alarm(rule)
        if names is not None:
            return [tuple(names)]
    return [term for part in rule[1:] for term in conjunctions(part)]


def _all_alarm(rule: Rule) -> list[str] | None:
    """The names of an AND chain of ALARM states, or None when it holds anything else."""
    if isinstance(rule, bool):
        return None
    if rule[0] == "STATE":
        return [rule[2]] if rule[1] == "ALARM" else None
    if rule[0] != "AND":
        return None
    left, right = _all_alarm(rule[1]), _all_alarm(rule[2])
    return None if left is None or right is None else left + right


def members(rule: Rule) -> set[str]:
    return set(referenced_alarms(rule))


def parse_alarm_rule(text: str) -> list[str]:
    """The alarm names a composite alarm rule refers to; raises RuleError where CloudWatch would."""
    return referenced_alarms(parse_rule(text))


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
