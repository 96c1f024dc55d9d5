"""English inflection folding: one key per word for "apologise", "apologized", "apologizing".

`fold(word)` maps a case-folded word to a crude lemma key. Phrase rules with `inflect: true` fold
both the phrase's words (once, when the policy is compiled) and the draft's words, and compare
keys. The key is not meant to be read; it only has to agree between the forms of one word and
differ between unrelated words. It is deterministic and needs no data files (a spaCy lemmatizer
would need the 98 MB spacy-lookups-data package). Steps, in order:

1. Possessive `'s` is dropped ("customer's" -> "customer"), except in the `'s` contractions of
   pronouns and question words ("it's", "that's", "let's"). Other contractions are left alone:
   "we're" is not "we are" and does not match "we".
2. A table of common irregular forms maps to their base: was/were/been/is/are/am -> be,
   has/had -> have, went/gone -> go, made -> make, children -> child ... Forms that are just as
   often another word are left out (saw, left, rose, fell, lay, bit, fed, sat, shot, bore ...).
3. British spellings are rewritten to American ones: -ise/-isation/-yse -> -ize/-ization/-yze,
   -our -> -or (colour, favourite, behavioural; not hour, four, your, detour), -tre/-bre ->
   -ter/-ber (centre, fibre), -ogue -> -og (catalogue), -ll- -> -l- before -er/-or/-ation/-ment
   (traveller, cancellation, fulfilment), plus a small table (grey, cheque, tyre, licence ...).
4. Regular inflections are removed with the inflectional steps of the Porter2 (Snowball English)
   stemmer: -s/-es/-ies, -ed/-ied, -ing with undoubling (stopped -> stop) and e-restoring
   (hoped -> hope, used -> use), final -y -> -i (reply/replies/replied -> repli), and a final
   -e/-ll in the word's second region (apologize -> apologiz, cancelled -> cancel).

Limits: derivational suffixes are kept (apology != apologize, helpful != help); Porter2 merges a
few unrelated pairs (unite/unit, evening is kept apart by hand but others exist); irregular forms
outside the table are not folded (sought, wept); words with digits, non-ASCII letters or 2 letters
or fewer are returned unchanged.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Union

import regex

# Step 1: contractions of "is"/"us" that look like possessives.
_S_CONTRACTIONS = frozenset({
    "it's", "he's", "she's", "that's", "what's", "there's", "here's", "who's", "where's",
    "how's", "when's", "why's", "let's",
})

# Step 2: irregular forms -> base form (verbs, then nouns).
_IRREGULAR_BASES: dict[str, tuple[str, ...]] = {
    "be": ("am", "is", "are", "was", "were", "been", "being"),
    "have": ("has", "had"),
    "do": ("does", "did", "done"),
    "go": ("goes", "went", "gone"),
    "say": ("said",), "make": ("made",), "get": ("got", "gotten"), "know": ("knew", "known"),
    "think": ("thought",), "take": ("took", "taken"), "see": ("seen",), "come": ("came",),
    "give": ("gave", "given"), "find": ("found",), "tell": ("told",), "feel": ("felt",),
    "become": ("became",), "mean": ("meant",), "keep": ("kept",), "begin": ("began", "begun"),
    "show": ("shown",), "hear": ("heard",), "run": ("ran",), "hold": ("held",),
    "bring": ("brought",), "write": ("wrote", "written"), "stand": ("stood",), "lose": ("lost",),
    "pay": ("paid",), "meet": ("met",), "lead": ("led",), "understand": ("understood",),
    "misunderstand": ("misunderstood",), "speak": ("spoke", "spoken"), "spend": ("spent",),
    "grow": ("grew", "grown"), "win": ("won",), "buy": ("bought",), "send": ("sent",),
    "build": ("built",), "rebuild": ("rebuilt",), "sell": ("sold",), "break": ("broke", "broken"),
    "choose": ("chose", "chosen"), "forget": ("forgot", "forgotten"), "drive": ("drove", "driven"),
    "eat": ("ate", "eaten"), "draw": ("drew", "drawn"), "fly": ("flew", "flown"),
    "throw": ("threw", "thrown"), "wear": ("wore", "worn"), "teach": ("taught",),
    "catch": ("caught",), "fight": ("fought",), "deal": ("dealt",), "sleep": ("slept",),
    "hide": ("hid", "hidden"), "ride": ("rode", "ridden"), "shake": ("shook", "shaken"),
    "steal": ("stole", "stolen"), "wake": ("woke", "woken"), "forgive": ("forgave", "forgiven"),
    "freeze": ("froze", "frozen"), "sing": ("sang", "sung"), "stick": ("stuck",),
    "strike": ("struck",), "swear": ("swore", "sworn"), "tear": ("tore", "torn"),
    "undo": ("undid", "undone"), "redo": ("redid", "redone"), "withdraw": ("withdrew", "withdrawn"),
    "blow": ("blew", "blown"), "lend": ("lent",), "mistake": ("mistook", "mistaken"),
    "rewrite": ("rewrote", "rewritten"), "fall": ("fallen",), "learn": ("learnt",),
    "spell": ("spelt",), "burn": ("burnt",), "dream": ("dreamt",), "spoil": ("spoilt",),
    "child": ("children",), "man": ("men",), "woman": ("women",), "foot": ("feet",),
    "tooth": ("teeth",), "mouse": ("mice",), "goose": ("geese",), "wife": ("wives",),
    "knife": ("knives",), "half": ("halves",), "shelf": ("shelves",),
    "self": ("selves",),
}
IRREGULAR: dict[str, str] = {form: base for base, forms in _IRREGULAR_BASES.items()
                             for form in forms}

# Step 3: British -> American spellings a rule cannot express.
SPELLING: dict[str, str] = {
    "grey": "gray", "cheque": "check", "programme": "program", "tyre": "tire",
    "aluminium": "aluminum", "enquiry": "inquiry", "enquire": "inquire", "judgement": "judgment",
    "mum": "mom", "pyjamas": "pajamas", "plough": "plow", "kerb": "curb", "manoeuvre": "maneuver",
    "practise": "practice", "licence": "license", "defence": "defense", "offence": "offense",
    "pretence": "pretense", "jewellery": "jewelry", "draught": "draft", "sceptical": "skeptical",
    "cosy": "cozy", "moustache": "mustache", "artefact": "artifact", "skilful": "skillful",
    "wilful": "willful", "meagre": "meager", "odour": "odor", "whilst": "while",
    "amongst": "among", "storey": "story",
}
_NOT_OUR = frozenset({"flour", "scour", "detour", "devour", "contour", "velour", "paramour",
                      "troubadour", "amour"})
_NOT_TRE = frozenset({"timbre", "macabre"})
_OGUE_ENDINGS = {"e": "", "es": "s", "ed": "ed", "ing": "ing"}
_Replacement = Union[str, Callable[["regex.Match[str]"], str]]
_RESPELL: tuple[tuple["regex.Pattern[str]", _Replacement], ...] = (
    (regex.compile(r"(?<=^[a-z]{2,})isation(s?)$"), r"ization\1"),
    (regex.compile(r"^([a-z]{3,})is(e|es|ed|ing|er|ers)$"), r"\1iz\2"),
    (regex.compile(r"^([a-z]{3,})ys(e|es|ed|ing|er|ers)$"), r"\1yz\2"),
    (regex.compile(r"^([a-z]{2,}?)our(s|ed|ing|ite|ites|ful|fully|able|ably|less|er|ers|al|ally"
                   r"|hood|hoods)?$"),
     lambda m: m.group(0) if m.group(1) + "our" in _NOT_OUR else
     f"{m.group(1)}or{m.group(2) or ''}"),
    (regex.compile(r"^([a-z]{2,}[tb])re(s|d)?$"),
     lambda m: m.group(0) if m.group(1) + "re" in _NOT_TRE else
     f"{m.group(1)}er{'e' if m.group(2) == 'd' else ''}{m.group(2) or ''}"),
    (regex.compile(r"^([a-z]{3,})ogu(e|es|ed|ing)$"),
     lambda m: m.group(1) + "og" + _OGUE_ENDINGS[m.group(2)]),
    (regex.compile(r"^([a-z]{3,}[aeiou])ll(er|ers|or|ors|ation|ations|ment|ments)$"), r"\1l\2"),
)

# Step 4: Porter2 exceptions that must not be stemmed (or stem specially).
_INVARIANT = frozenset({"news", "sky", "howe", "atlas", "cosmos", "bias", "andes", "evening",
                        "evenings", "inning", "outing", "canning", "herring", "earring",
                        "proceed", "exceed", "succeed"})
_SPECIAL = {"skis": "ski", "skies": "sky", "dying": "die", "lying": "lie", "tying": "tie"}
_VOWELS = frozenset("aeiouy")
_DOUBLES = ("bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt")
_ASCII_WORD = regex.compile(r"[a-z]+")


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """The inflection-free key of a case-folded word (see the module docstring)."""
    if word.endswith("'s") and word not in _S_CONTRACTIONS:
        word = word[:-2]
    if not _ASCII_WORD.fullmatch(word):
        return word
    word = IRREGULAR.get(word, word)
    stem = _stem(respell(word))
    return _SPELLING_STEMS.get(stem, stem)


_FOLDED: dict[str, str] = {}
_FOLDED_MAX = 65536


def fold_all(words: list[str]) -> list[str]:
    """`fold` of each word: a plain dict lookup per word once seen, which costs about half of
    `fold`'s LRU cache. Filling the dict is idempotent, so threads may race on it harmlessly;
    it is emptied when it grows past `_FOLDED_MAX` words."""
    folded = list(map(_FOLDED.get, words))
    if None in folded:
        if len(_FOLDED) > _FOLDED_MAX:
            _FOLDED.clear()
        for i, key in enumerate(folded):
            if key is None:
                folded[i] = _FOLDED[words[i]] = fold(words[i])
    return folded  # type: ignore[return-value]  # no None is left


def respell(word: str) -> str:
    """British spelling -> American spelling, by the rules of step 3 (not the table)."""
    for pattern, repl in _RESPELL:
        word = pattern.sub(repl, word)
    return word


def _stem(word: str) -> str:
    """Porter2 steps 1a, 1b, 1c and 5 (the inflectional ones) on an ASCII lower-case word."""
    if len(word) <= 2 or word in _INVARIANT:
        return word
    if word in _SPECIAL:
        return _SPECIAL[word]
    w = _mark_y(word)
    r1, r2 = _regions(w)
    w = _step1a(w)
    if w in _INVARIANT:
        return w
    w = _step1b(w, r1)
    w = _step1c(w)
    w = _step5(w, r1, r2)
    return w.lower()


def _is_vowel(ch: str) -> bool:
    return ch in _VOWELS


def _mark_y(w: str) -> str:
    """Porter2 treats y as a consonant at the start and after a vowel; mark those as Y."""
    chars = list(w)
    for i, ch in enumerate(chars):
        if ch == "y" and (i == 0 or _is_vowel(chars[i - 1])):
            chars[i] = "Y"
    return "".join(chars)


def _region_after(w: str, start: int) -> int:
    for i in range(start + 1, len(w)):
        if not _is_vowel(w[i]) and _is_vowel(w[i - 1]):
            return i + 1
    return len(w)


def _regions(w: str) -> tuple[int, int]:
    for prefix in ("gener", "commun", "arsen"):
        if w.startswith(prefix):
            r1 = len(prefix)
            break
    else:
        r1 = _region_after(w, 0)
    return r1, _region_after(w, r1)


def _short_syllable_end(w: str) -> bool:
    """Does `w` end in a short syllable (Porter2 definition)?"""
    n = len(w)
    if n == 2:
        return _is_vowel(w[0]) and not _is_vowel(w[1])
    if n >= 3:
        return (not _is_vowel(w[-3]) and _is_vowel(w[-2]) and not _is_vowel(w[-1])
                and w[-1] not in "wxY")
    return False


def _has_vowel(w: str) -> bool:
    return any(_is_vowel(c) for c in w)


def _step1a(w: str) -> str:
    if w.endswith("sses"):
        return w[:-2]
    if w.endswith(("ied", "ies")):
        return w[:-2] if len(w) > 4 else w[:-1]
    if w.endswith(("us", "ss")):
        return w
    if w.endswith("s") and _has_vowel(w[:-2]):
        return w[:-1]
    return w


def _step1b(w: str, r1: int) -> str:
    for suffix in ("eedly", "eed"):
        if w.endswith(suffix):
            return w[: -len(suffix)] + "ee" if len(w) - len(suffix) >= r1 else w
    for suffix in ("ingly", "edly", "ing", "ed"):
        if w.endswith(suffix):
            stem = w[: -len(suffix)]
            if not _has_vowel(stem):
                return w
            if stem.endswith(("at", "bl", "iz")):
                return stem + "e"
            if stem.endswith(_DOUBLES):
                return stem[:-1]
            if _short_syllable_end(stem) and r1 >= len(stem):
                return stem + "e"
            return stem
    return w


def _step1c(w: str) -> str:
    if len(w) > 2 and w[-1] in "yY" and not _is_vowel(w[-2]):
        return w[:-1] + "i"
    return w


def _step5(w: str, r1: int, r2: int) -> str:
    n = len(w)
    if w.endswith("e"):
        if n - 1 >= r2 or (n - 1 >= r1 and not _short_syllable_end(w[:-1])):
            return w[:-1]
    elif w.endswith("ll") and n - 1 >= r2:
        return w[:-1]
    return w


_SPELLING_STEMS: dict[str, str] = {_stem(respell(b)): _stem(respell(a))
                                   for b, a in SPELLING.items()}
