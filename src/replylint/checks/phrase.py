"""`phrase`: words and phrases matched on whole words, all phrases of a rule in one pass.

Matching runs on the normalised text (case-folded, NFKC, look-alike letters mapped, invisible
characters removed) split into words (`replylint.words`). A phrase matches consecutive words,
whatever spaces, line breaks or punctuation stand between them, except sentence-ending
punctuation (`.`, `!`, `?`): "Sorry. For any ..." is two sentences, not one phrase. A phrase never
matches part of a word ("rest assured" is not in "interest assured").

The phrases are compiled into a word trie, walked once from each word of the draft, so a draft
costs the same with ten phrases or ten thousand.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from itertools import compress
from typing import Any, Iterator, Mapping

from ..draft import Draft
from ..inflect import fold, fold_all
from ..options import option
from ..text import Normalized, normalize
from ..words import crosses_sentence, word_spans, words
from .base import CompileContext, Hit

Trie = dict[str, Any]
_SUBSET_TESTS = 8
_END = ""  # never a word, so it can mark "a phrase ends here" inside a trie node


@dataclass(frozen=True)
class PhraseOptions:
    phrases: list[str] | dict[str, str | None] = option(
        doc="Words or phrases to flag; as a mapping, each phrase's value is its suggestion "
            "(may use placeholders such as {customer}) or null.",
        nonempty=True)
    inflect: bool = option(
        False, doc="Also match inflections and British/American spellings (apologise, "
                   "apologized, apologizing) by folding words on both sides.")
    exceptions: list[str] = option(
        [], doc="Phrases; a hit that lies inside a match of one of these is not reported.")


@dataclass(frozen=True)
class _Phrase:
    text: str
    suggestion: str | None


@dataclass(frozen=True)
class PhraseCheck:
    trie: Trie = field(repr=False)
    exceptions: Trie = field(repr=False)
    phrases: tuple[_Phrase, ...]
    inflect: bool
    anchors: Mapping[str, tuple[frozenset[str], ...]] = field(repr=False)
    """One word of every phrase (its longest), and the words of the phrases under it: a draft
    that lacks a word of every phrase cannot match."""

    def may_match(self, keys: list[str]) -> bool:
        """False when, for every phrase, some word of it is missing from `keys`."""
        if self.anchors.keys().isdisjoint(keys):
            return False
        have = set(keys)
        for anchor in self.anchors.keys() & have:
            phrases = self.anchors[anchor]
            # Past a few phrases the trie walk is cheaper than testing each one's words.
            if len(phrases) > _SUBSET_TESTS or any(words <= have for words in phrases):
                return True
        return False

    def find(self, draft: Draft) -> list[Hit]:
        """The hits, as a new list (`[]` for most replies, without making a generator)."""
        view = draft.normalized
        keys = words(view.text)
        if not keys:
            return []
        if self.inflect:
            keys = fold_all(keys)
        if not self.may_match(keys):
            return []
        return list(self._hits(view, keys))

    def _hits(self, view: Normalized, keys: list[str]) -> Iterator[Hit]:
        text = view.text
        spans = word_spans(text)
        blocked: list[tuple[int, int, int]] | None = None
        for first, last, index in _matches(self.trie, keys, spans, text):
            if blocked is None:
                blocked = list(_matches(self.exceptions, keys, spans, text)) \
                    if self.exceptions else []
            if any(bf <= first and last <= bl for bf, bl, _ in blocked):
                continue
            phrase = self.phrases[index]
            start, end = view.original_span(spans[first][0], spans[last][1])
            yield Hit(start, end, values={"phrase": phrase.text},
                      suggestions=(phrase.suggestion,) if phrase.suggestion else ())


def _matches(trie: Trie, keys: list[str], spans: list[tuple[int, int]],
             text: str) -> Iterator[tuple[int, int, int]]:
    """(first word, last word, phrase index) of the longest phrase starting at each word."""
    n = len(keys)
    # Only words that start some phrase are walked from; finding them is one C-level pass.
    for i in compress(range(n), map(trie.__contains__, keys)):
        node: Trie | None = trie[keys[i]]
        j = i
        best: tuple[int, int] | None = None
        while node is not None:
            if _END in node:
                best = (j, node[_END])
            if j + 1 >= n or crosses_sentence(text, spans[j][1], spans[j + 1][0]):
                break
            j += 1
            node = node.get(keys[j])
        if best is not None:
            yield i, best[0], best[1]


def _phrase_keys(phrase: str, inflect: bool) -> list[str]:
    """A phrase's words as the trie stores them: normalised like drafts, folded if asked."""
    text = normalize(phrase).text
    words = [text[s:e] for s, e in word_spans(text)]
    return [fold(w) for w in words] if inflect else words


def _anchor(phrase: str, keys: list[str]) -> str:
    """The key of the phrase's longest word (the last of equals): likely its rarest word."""
    raw = words(normalize(phrase).text)
    return keys[max(range(len(keys)), key=lambda i: (len(raw[i]), i))]


def _insert(trie: Trie, keys: list[str], index: int) -> None:
    node = trie
    for k in keys:
        node = node.setdefault(k, {})
    node.setdefault(_END, index)  # the first of two phrases with the same words wins


def _template_error(template: str) -> str | None:
    try:
        for _, name, _, _ in string.Formatter().parse(template):
            if name is not None and not name.isidentifier():
                return f"placeholder {{{name}}} is not a name"
    except ValueError as exc:
        return f"malformed suggestion: {exc}"
    return None


def compile_phrase(opts: PhraseOptions, ctx: CompileContext) -> PhraseCheck | None:
    items: list[tuple[str | int, str, str | None]]
    if isinstance(opts.phrases, dict):
        items = [(p, p, s) for p, s in opts.phrases.items()]
    else:
        items = [(i, p, None) for i, p in enumerate(opts.phrases)]
    ok = True
    trie: Trie = {}
    phrases: list[_Phrase] = []
    anchors: dict[str, set[frozenset[str]]] = {}
    for where, text, suggestion in items:
        keys = _phrase_keys(text, opts.inflect)
        if not keys:
            ctx.error(("phrases", where), f"phrase {text!r} has no words",
                      "a phrase is matched on words (letters and digits)")
            ok = False
            continue
        if suggestion is not None:
            problem = _template_error(suggestion)
            if problem:
                ctx.error(("phrases", where), problem,
                          "use {customer}, {agent}, {match}...; write {{ and }} for braces")
                ok = False
                continue
        _insert(trie, keys, len(phrases))
        anchors.setdefault(_anchor(text, keys), set()).add(frozenset(keys))
        phrases.append(_Phrase(text, suggestion))
    exceptions: Trie = {}
    for i, text in enumerate(opts.exceptions):
        keys = _phrase_keys(text, opts.inflect)
        if not keys:
            ctx.error(("exceptions", i), f"exception {text!r} has no words")
            ok = False
            continue
        _insert(exceptions, keys, i)
    if not ok:
        return None
    return PhraseCheck(trie, exceptions, tuple(phrases), opts.inflect,
                       {a: tuple(sorted(ws, key=sorted)) for a, ws in anchors.items()})
