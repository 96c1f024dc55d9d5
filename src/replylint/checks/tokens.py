"""`tokens`: spaCy `Matcher` token patterns written in YAML, for grammar-aware rules.

replylint runs spaCy's blank English pipeline (a tokenizer, no trained model), so patterns may use
the token's text and lexical attributes (ORTH/TEXT, LOWER, NORM, SHAPE, PREFIX, SUFFIX, LENGTH,
IS_*/LIKE_* flags, with IN/NOT_IN/REGEX/FUZZY and OP), but not attributes a trained pipeline would
set (POS, TAG, DEP, LEMMA, MORPH, ENT_TYPE, sentence starts...). Those are rejected when the
policy loads rather than failing on the first draft.

Patterns run on `Draft.tokens` (`replylint.nlp.token_view`): the reply's visible words (no
white-space tokens, no invisible characters, NORM normalised), with each token's span in the
original text.

`Matcher.__call__` only reads the matcher: its scratch memory (state vectors, predicate cache,
the greedy filter's buffers) is allocated per call, and the predicates only read the vocabulary.
The shared vocabulary is written by tokenizing, which `replylint.nlp` serialises with its lock.
So a compiled check needs no lock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Literal

from ..draft import Draft
from ..options import option
from .base import CompileContext, Hit

if TYPE_CHECKING:  # pragma: no cover
    from spacy.matcher import Matcher

NEEDS_PIPELINE = frozenset({
    "POS", "TAG", "DEP", "LEMMA", "MORPH", "ENT_TYPE", "ENT_IOB", "ENT_ID", "ENT_KB_ID",
    "SENT_START", "IS_SENT_START", "HEAD", "_",
})
_MATCH_KEY = "replylint-tokens"


@dataclass(frozen=True)
class TokensOptions:
    patterns: list[list[dict[str, Any]]] = option(
        doc="spaCy Matcher patterns: each a list of token specs, e.g. "
            "[{LOWER: {IN: [buy, sell]}}, {TEXT: {REGEX: '^[A-Z]{1,5}$'}}].",
        nonempty=True, itemwise=True)
    greedy: Literal["FIRST", "LONGEST"] | None = option(
        "LONGEST", doc="Among overlapping matches keep the first or the longest (null: all).")


@dataclass(frozen=True)
class TokensCheck:
    matcher: "Matcher" = field(repr=False, compare=False)
    patterns: int

    def find(self, draft: Draft) -> Iterator[Hit]:
        view = draft.tokens
        for _, start, end in self.matcher(view.doc):
            yield Hit(*view.original_span(start, end))


def _pipeline_attrs(pattern: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(token index, attribute) of every attribute that needs a trained pipeline."""
    return [(j, key) for j, spec in enumerate(pattern) if isinstance(spec, dict)
            for key in spec if str(key).upper() in NEEDS_PIPELINE]


def _has_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, dict):
        return any(_has_bool(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_bool(v) for v in value)
    return False


def _condense(errors: list[str], pattern: list[dict[str, Any]]) -> tuple[list[Any], str]:
    """spaCy's validation messages -> (path inside the pattern, one readable message)."""
    grouped: dict[tuple[Any, ...], list[str]] = {}
    for error in errors:
        where, _, message = error.partition("] ")
        steps = [s.strip() for s in where.lstrip("[").split("->")][1:]
        path: list[Any] = []
        if steps and steps[0].isdigit():
            path.append(int(steps[0]))
            spec = pattern[int(steps[0])] if int(steps[0]) < len(pattern) else None
            if len(steps) > 1 and isinstance(spec, dict) and steps[1] in spec:
                path.append(steps[1])
        if "Extra inputs are not permitted" in message and steps:
            kind = "attribute" if len(steps) == 2 else "key"
            message = f"unknown {kind} {steps[-1]!r}"
            if kind == "attribute":
                del path[1:]
        grouped.setdefault(tuple(path), [])
        if message not in grouped[tuple(path)]:
            grouped[tuple(path)].append(message)
    first = next(iter(grouped))
    parts = []
    for where_in, messages in grouped.items():
        label = ", ".join(f"token {p}" if isinstance(p, int) else str(p) for p in where_in)
        parts.append(f"{label}: {'; or '.join(messages)}" if label else "; or ".join(messages))
    return list(first), " | ".join(parts)


def compile_tokens(opts: TokensOptions, ctx: CompileContext) -> TokensCheck | None:
    from spacy.matcher import Matcher
    from spacy.schemas import validate_token_pattern

    from ..nlp import get_nlp

    vocab = get_nlp().vocab
    ok = True
    valid: list[list[dict[str, Any]]] = []
    for i, pattern in enumerate(opts.patterns):
        if pattern is None:  # wrongly shaped, already reported; the others are still checked
            ok = False
            continue
        if not pattern:
            ctx.error(("patterns", i), "a pattern needs at least one token spec")
            ok = False
            continue
        forbidden = _pipeline_attrs(pattern)
        for j, key in forbidden:
            ctx.error(("patterns", i, j, key),
                      f"{key} needs a trained pipeline; replylint tokenizes with "
                      f"spacy.blank('en'), which does not set it",
                      "match the words instead: LOWER, NORM, TEXT with IN or REGEX")
            ok = False
        if forbidden:
            continue
        errors = validate_token_pattern(pattern)
        if errors:
            inner, message = _condense(errors, pattern)
            hint = ("unquoted true/false are YAML booleans; quote them"
                    if _has_bool(pattern) else
                    "see https://spacy.io/usage/rule-based-matching#adding-patterns-attributes")
            ctx.error(("patterns", i, *inner), f"invalid token pattern: {message}", hint)
            ok = False
            continue
        try:
            Matcher(vocab, validate=True).add(_MATCH_KEY, [pattern])
        except Exception as exc:  # spaCy raises re.error, ValueError... for bad values
            ctx.error(("patterns", i), f"invalid token pattern: {exc}")
            ok = False
            continue
        valid.append(pattern)
    if not ok:
        return None
    matcher = Matcher(vocab, validate=True)
    matcher.add(_MATCH_KEY, valid, greedy=opts.greedy)
    return TokensCheck(matcher, len(valid))
