"""Parse a draft once, run every rule on it, and build the frozen report."""

from __future__ import annotations

import string
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import regex

from .checks.base import Hit
from .draft import Draft
from .model import Context, Decision, Report, Severity, Violation
from .policy import Policy, Rule, id_matches, load_policy

PolicySpec = Policy | str | Path | Mapping[str, Any] | None
ContextLike = Context | Mapping[str, Any] | None


class _Values(dict[str, str]):
    """Placeholder values for messages: a missing one renders as nothing, never as a KeyError."""

    def __missing__(self, key: str) -> str:
        return ""


_FORMATTER = string.Formatter()
_TIDY = [(regex.compile(r"[ \t]+([,.!?;:])"), r"\1"), (regex.compile(r",([.!?])"), r"\1"),
         (regex.compile(r"[ \t]{2,}"), " ")]


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill `{placeholders}`; drop missing ones and the stray punctuation they leave behind."""
    names = _plain_names(template)
    if names is None:
        return _render_slow(template, values)
    if type(values) is not _Values:
        values = _Values(values)
    # Plain `{name}`s only: `format_map` gives what `string.Formatter` would, at C speed.
    out = template.format_map(values)
    for name in names:
        if not values.get(name):
            for pattern, repl in _TIDY:
                out = pattern.sub(repl, out)
            return out.strip()
    return out


def _text(value: Any) -> str:
    return value if type(value) is str else format(value, "")


_NAMES: dict[str, tuple[str, ...] | None] = {}


def _plain_names(template: str) -> tuple[str, ...] | None:
    """The placeholder names of a template holding plain `{name}`s only, else None.

    Templates belong to the policy, so each is parsed once (the cache is emptied past 1,024
    templates; refilling it is idempotent, so threads may share it). Anything fancier (format
    specs, conversions, attribute or index lookups, positional fields, malformed braces) goes
    through `string.Formatter`, which gives the same text for plain names.
    """
    try:
        return _NAMES[template]
    except KeyError:
        pass
    names: list[str] = []
    plain = True
    try:
        for _, name, spec, conversion in _FORMATTER.parse(template):
            if name is None:
                continue
            if not name.isidentifier() or spec or conversion:
                plain = False
                break
            names.append(name)
    except ValueError:
        plain = False
    if len(_NAMES) > 1024:
        _NAMES.clear()
    found = _NAMES[template] = tuple(names) if plain else None
    return found


def _render_slow(template: str, values: Mapping[str, str]) -> str:
    try:
        out = _FORMATTER.vformat(template, (), _Values(values))
    except (ValueError, IndexError, AttributeError):
        return template
    if any(not values.get(n) for _, n, _, _ in _FORMATTER.parse(template) if n):
        for pattern, repl in _TIDY:
            out = pattern.sub(repl, out)
        out = out.strip()
    return out


_NO_CONTEXT = Context()


def as_context(context: ContextLike) -> Context:
    if context is None:
        return _NO_CONTEXT
    if isinstance(context, Context):
        return context
    if isinstance(context, Mapping):
        return Context.from_mapping(context)
    raise TypeError(f"context must be a replylint.Context or a mapping such as "
                    f"{{'agent': 'MS'}}, not {type(context).__name__}")


@dataclass(frozen=True)
class Linter:
    """A compiled policy ready to check replies. Immutable: share one across threads.

    `policy` may be a compiled `Policy` or anything `load_policy` takes (a path, `"pack:NAME"`,
    a mapping, None for `pack:default`); it is compiled once, here.
    """

    policy: Policy
    redact: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.policy, Policy):
            object.__setattr__(self, "policy", load_policy(self.policy))

    @classmethod
    def from_policy(cls, policy: PolicySpec = None, *, select: Iterable[str] | None = None,
                    ignore: Iterable[str] | None = None, redact: bool = True) -> "Linter":
        compiled = load_policy(policy)
        if select or ignore:
            compiled = compiled.select(select, ignore)
        return cls(compiled, redact)

    def check(self, text: str, context: ContextLike = None, *,
              deadline: float | None = None) -> Report:
        """Check one reply and return its report.

        `deadline` is a `time.monotonic()` value: rules not started by then are skipped, a
        `pattern` rule's regexes stop when it passes, and the report says `incomplete=True`, so
        a pre-send hook can answer in time instead of hanging.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}"
                            + (" (decode bytes first)" if isinstance(text, bytes) else ""))
        ctx = as_context(context)
        draft = Draft(text, ctx, deadline)
        found: list[tuple[Rule, Hit]] = []
        suppressed: list[str] = []
        incomplete = False
        plain = ctx is _NO_CONTEXT
        for rule, find in self._plain_plan if plain else self._plan:
            if deadline is not None and time.monotonic() >= deadline:
                incomplete = True
                break
            if not plain:
                if not rule.applies(ctx):
                    continue
                if ctx.disable and rule.suppressible and any(id_matches(rule.id, d)
                                                             for d in ctx.disable):
                    suppressed.append(rule.id)
                    continue
            try:
                hits = find(draft)
                if type(hits) is not list:  # most finds return lists; some are generators
                    hits = list(hits)
            except TimeoutError:
                incomplete = True  # a rule ran out of time mid-way: what it found is dropped
                break
            if hits:
                if len(hits) == 1:
                    found.append((rule, hits[0]))
                else:
                    found.extend((rule, hit) for hit in _dedupe(hits))
        violations: list[Violation] = []
        if found:
            shared = self._settings if plain else \
                {**self._settings, **_context_values(ctx)}
            masks = self._masks(draft, found)
            violations = [self._violation(rule, draft, hit, shared, masks)
                          for rule, hit in found]
            if len(violations) > 1:
                violations.sort(key=lambda v: (v.start, v.end, v.rule))
        return Report(decide(violations), tuple(violations), self.policy.name,
                      self.policy.hash, tuple(suppressed), incomplete)

    def check_many(self, items: Iterable[str | tuple[str, ContextLike]]) -> Iterator[Report]:
        """Check replies lazily, in order; each item is a text or a (text, context) pair."""
        check = self.check
        for item in items:
            if isinstance(item, str):
                yield check(item)
            else:
                text, context = item
                yield check(text, context)

    @cached_property
    def _plan(self) -> tuple[tuple[Rule, Callable[[Draft], Iterable[Hit]]], ...]:
        """Each rule with its bound `find`, looked up once rather than per reply."""
        return tuple((rule, rule.check.find) for rule in self.policy.rules)

    @cached_property
    def _plain_plan(self) -> tuple[tuple[Rule, Callable[[Draft], Iterable[Hit]]], ...]:
        """The plan for a reply without context: the rules that apply to it, nothing to
        suppress."""
        return tuple((rule, find) for rule, find in self._plan if rule.applies(_NO_CONTEXT))

    @cached_property
    def _settings(self) -> dict[str, str]:
        """The policy's settings as placeholder values (a draft's context overrides them)."""
        return {str(k): _text(v).lower() if isinstance(v, bool) else _text(v)
                for k, v in self.policy.settings.items()
                if isinstance(v, (str, int, float, bool))}

    def _masks(self, draft: Draft, found: list[tuple[Rule, Hit]]) -> list[tuple[str, str]]:
        """Personal data found in the draft, and how reports show it: every violation's text
        (a signature rule quoting an e-mail as the last word, say) is masked the same way."""
        if not self.redact:
            return []
        for _, hit in found:
            if hit.redact:
                break
        else:
            return []
        secrets = {draft.text[hit.start:hit.end] for _, hit in found if hit.redact}
        return sorted(((s, redact(s)) for s in secrets if s.strip()),
                      key=lambda pair: -len(pair[0]))

    def _violation(self, rule: Rule, draft: Draft, hit: Hit, shared: Mapping[str, str],
                   masks: list[tuple[str, str]]) -> Violation:
        text = draft.text
        matched = text[hit.start:hit.end]
        values = _Values(rule=rule.id)
        values.update(shared)
        values.update(hit.values)
        values["match"] = matched
        if masks:
            values = _Values({k: _mask(v, masks) for k, v in values.items()})
            matched = values["match"]
        message = render(hit.message or rule.message, values)
        templates = (*hit.suggestions, *rule.suggestions)
        suggestions = tuple(dict.fromkeys(
            s for s in (render(t, values) for t in templates) if s)) if templates else ()
        line, column = draft.position(hit.start)
        if hit.end > hit.start:
            end_line, end_col = draft.position(hit.end - 1)
            end_col += 1
        else:
            end_line, end_col = line, column
        rule_id = f"{rule.id}.{hit.sub_id}" if hit.sub_id else rule.id
        # Positional: a quarter cheaper than keywords for this 13-field frozen dataclass.
        return Violation(rule_id, hit.severity or rule.severity, message, hit.start, hit.end,
                         line, column, end_line, end_col, matched, suggestions, hit.fix,
                         rule.why)


def _mask(value: str, masks: list[tuple[str, str]]) -> str:
    for secret, shown in masks:
        if secret in value:
            value = value.replace(secret, shown)
    return value


def _context_values(ctx: Context) -> dict[str, str]:
    out = {k: v for k, v in ctx.extra}
    for name in ("channel", "agent", "customer"):
        value = ctx.get(name)
        if value:
            out[name] = value
    return out


def _dedupe(hits: list[Hit]) -> list[Hit]:
    """Keep one hit per overlapping cluster of one rule: the earliest, then the longest."""
    if len(hits) < 2:
        return hits
    hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
    kept: list[Hit] = []
    for hit in hits:
        if kept and hit.start < kept[-1].end and hit.end > kept[-1].start:
            continue
        if kept and hit.start == hit.end == kept[-1].start == kept[-1].end:
            continue
        kept.append(hit)
    return kept


def redact(value: str) -> str:
    """Hide personal data in reports: keep the last 4 characters of letters/digits."""
    keep = 4 if sum(ch.isalnum() for ch in value) > 8 else 0
    out: list[str] = []
    remaining = keep
    for ch in reversed(value):
        if ch.isalnum():
            if remaining > 0:
                out.append(ch)
                remaining -= 1
            else:
                out.append("*")
        else:
            out.append(ch)
    return "".join(reversed(out))


def decide(violations: Iterable[Violation]) -> Decision:
    """block on any error, warn on any warning, else allow (info never changes the verdict)."""
    severities = {v.severity for v in violations}
    if Severity.ERROR in severities:
        return Decision.BLOCK
    if Severity.WARNING in severities:
        return Decision.WARN
    return Decision.ALLOW
