"""Which of many literal strings occur in a text, found in one pass.

Prefilters ask "does this reply contain any of these words?" for hundreds of literals. Testing
them one `in` at a time costs a scan of the reply per literal; an Aho-Corasick automaton
(`pyahocorasick`, C) reports every occurrence of every literal, overlapping ones included, in a
single scan, so the cost no longer grows with the number of literals.

A `LiteralPool` collects the literals of every rule of a policy that looks at the same view of
a draft, so one scan per draft serves all of them (see `Draft.literals_in`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from types import MappingProxyType

import ahocorasick

_NONE: frozenset[str] = frozenset()


class Scan:
    """What one scan of a draft view found: the pooled literals present, and for each
    subscriber (see `LiteralPool.subscribe`) the numbers its found literals are indexed under."""

    __slots__ = ("present", "hits")

    def __init__(self, present: Set[str], hits: Mapping[int, Set[int]]) -> None:
        self.present = present
        self.hits = hits


_EMPTY_SCAN = Scan(_NONE, MappingProxyType({}))  # shared by every draft: read-only


class LiteralPool:
    """Literals gathered while a policy compiles, then frozen; scanning is read-only.

    `view` names the draft view the literals are looked up in (e.g. `ascii_lower`), so rules
    that share a pool share one scan of that view.
    """

    __slots__ = ("view", "_pending", "_automaton", "_frozen", "_indexes")

    def __init__(self, view: str, literals: Iterable[str] = ()) -> None:
        self.view = view
        self._pending: set[str] = set()
        self._automaton: ahocorasick.Automaton | None = None
        self._frozen = False
        self._indexes: list[Mapping[str, tuple[int, ...]]] = []
        self.add(literals)

    def add(self, literals: Iterable[str]) -> None:
        if self._frozen:
            raise RuntimeError("literal pool is frozen")
        self._pending.update(literal for literal in literals if literal)

    def subscribe(self, index: Mapping[str, tuple[int, ...]]) -> int:
        """Register a rule's index of literal -> numbers (its regexes, say); returns the slot
        under which `scan` reports the numbers of the literals it finds.

        The routing is precomputed per literal, so a scan does for all rules at once what
        each rule would otherwise do over every found literal.
        """
        if self._frozen:
            raise RuntimeError("literal pool is frozen")
        self.add(index)
        self._indexes.append(index)
        return len(self._indexes) - 1

    def freeze(self) -> LiteralPool:
        """Build the automaton; after this the pool never changes (safe to share)."""
        if not self._frozen:
            if self._pending:
                automaton = ahocorasick.Automaton()
                for literal in sorted(self._pending):
                    routes = tuple((slot, index[literal])
                                   for slot, index in enumerate(self._indexes)
                                   if literal in index)
                    automaton.add_word(literal, (literal, routes))
                automaton.make_automaton()
                self._automaton = automaton
            self._frozen = True
        return self

    def scan(self, text: str) -> Scan:
        """The pooled literals in `text`, and what each subscriber indexed under them."""
        if not self._frozen:
            raise RuntimeError("literal pool is used before the policy finished compiling")
        if self._automaton is None or not text:
            return _EMPTY_SCAN
        present: set[str] = set()
        hits: dict[int, set[int]] = {}
        for _, (literal, routes) in self._automaton.iter(text):
            if literal in present:
                continue
            present.add(literal)
            for slot, numbers in routes:
                found = hits.get(slot)
                if found is None:
                    hits[slot] = set(numbers)
                else:
                    found.update(numbers)
        return Scan(present, hits)

    def occurs_in(self, text: str) -> bool:
        """True when any pooled literal occurs in `text` (stops at the first)."""
        if not self._frozen:
            raise RuntimeError("literal pool is used before the policy finished compiling")
        if self._automaton is None or not text:
            return False
        return next(self._automaton.iter(text), None) is not None

    def __len__(self) -> int:
        return len(self._pending)

    def __repr__(self) -> str:
        return f"LiteralPool({self.view!r}, {len(self)} literals)"
