"""The fast paths change how much work a reply costs, never what it reports.

Each shortcut (literal prefilters for regexes, the phrase rule's anchor words, the
personal-data gates, template rendering, one-line positions) is checked against the slow path
it replaces, on tricky inputs: Unicode case folding, obfuscation, CRLF, emoji.
"""

from __future__ import annotations

import dataclasses
import random
import string
from pathlib import Path

import pytest
import regex

from replylint import Linter
from replylint.checks import personal_data
from replylint.checks.pattern import Gated, PatternCheck, required_literals
from replylint.draft import Draft
from replylint.linter import _render_slow, render
from replylint.policy import load_policy_text
from replylint.text import LineIndex

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "brand-replies"

TRICKY = [
    "Honestly you should buy more $TSLA before earnings.",
    "YOU SHOULD BUY MORE $TSLA",
    "Ｙｏｕ ｓｈｏｕｌｄ ｂｕｙ ｍｏｒｅ ｓｔｏｃｋｓ",
    "You should buy\u200b more stocks",
    "Yоu shоuld buy more stocks",  # Cyrillic о
    "ſtrong buy",
    "STRASSE and Straße and STRAẞE",
    "Kelvin: \u212a",
    "ﬁne, ﬀ, ﬃ",
    "İstanbul promise, we PROMİSE",
    "ǰ ŉ ẖ",
    "\U0001df95 ss",
    "price\r\ntarget of $250",
    "Hola Günduz, you should buy more stocks, ¿vale?",
    "こんにちは！We will definitely have it fixed by Friday 🙏",
    "Mário, write to jo dot smith at gmail dot com\u2028or call",
    "Mário: dana\u2028@\u2028example.org",  # white space beyond ASCII: no ASCII prefilter
    "Ｍário: your call is very important to us, İstanbul",
    "jo.smith\tat\x0bgmail\ndot\rcom, or jo\t@\x0cexample.org",
    "you\x0bshould\tbuy\x0cmore\nstocks",
    "Your call\tis\nvery important\r\nto us",
    "We will never lose value 👍🏽",
    "It's a risk-free investment!",
    "a\u0301b́ promise",
    "",
    " ",
    "$",
    "100 % fixed",
    "double your money",
    "buy the dip!!!",
    "we promise",
]


def corpus() -> list[str]:
    texts = list(TRICKY)
    linter = Linter.from_policy(None)
    texts += [e.text for r in linter.policy.rules for e in r.examples]
    path = SHARED / "brand_replies.jsonl"
    if path.is_file():
        import json

        with path.open(encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for _, line in zip(range(3000), f)]
    return texts


@pytest.mark.parametrize(
    ("pattern", "ignore_case", "clauses"),
    [
        # a run of white space is one space in the prefilter views; \d is written out
        (
            r"\bprice\s+target\s+(?:of\s+)?\$?\d",
            True,
            (tuple(f"price target {of}{dollar}{d}" for of in ("", "of ") for dollar in ("", "$")
                   for d in string.digits),),
        ),
        (
            r"\b(?:strong|screaming)\s+(?:buy|sell)\b",
            True,
            (("screaming", "strong"), ("sell", "buy"),
             ("screaming buy", "screaming sell", "strong buy", "strong sell")),
        ),
        (r"can'?t[- ]lose", True, (("can't lose", "can't-lose", "cant lose", "cant-lose"),)),
        (r"Stra(?:ß|ss)e", True, (("strasse",), ("ss",))),
        (r"Straße", False, (("Straße",),)),
        (r"İstanbul", True, ()),  # folds to a non-ASCII i̇: no gate, the regex always runs
        (r"(?:abc)?x", True, (("abcx", "x"),)),
        (r"a{2}b{0,3}c+", True, (("c",), ("a",))),
        (r"\p{L}+@\p{L}+\.com", True, ((".com",), ("@",))),
        (r"(?<=\$)\d+(?!%)", True, (("$",), tuple("$" + d for d in string.digits))),
        (r"(?<=\bbuy\s)[A-Z]+(?!\s+now)", False, (("buy",),)),
        (r"(?<!not )(?<=(?:sell|buy) )now", True, (("sell now", "buy now"), ("sell", "buy"))),
        (r"(?i:buy) TSLA", False, (("TSLA",),)),  # any-case "buy": no exact-case literal
        (r"(?i:buy) tsla", True, (("buy tsla",), ("buy",))),
        (r"(?-i:BUY) now", True, (("buy now",), ("buy",))),
        (
            r"(?:^|[.!?]\s*)\K(?:buy|sell)\s+stocks?",
            True,
            (("sell", "buy"), tuple(f"{p}{v} {s}" for p in ("", ".", ". ", "!", "! ", "?", "? ")
                                    for v in ("buy", "sell") for s in ("stock", "stocks"))),
        ),
        (
            r"\w+\s+(?:@|\(at\))\s+\w+",
            True,
            (("(at)", "@"), (" @ ", " (at) ")),
        ),
        # what a lookbehind looks at ends where the rest of the match starts
        (r"(?=[$\d])(?<=\bto\s+)\d", True, (("to ",), tuple("to " + d for d in string.digits))),
        (r"a\s\s+b|a\tb", True, (("a b",),)),
        (r"[-~][A-Z]{2}\b", False, (("-", "~"),)),
        (r"[^a]b[a-z]\d", True, (("b",),)),  # letters and negated classes: any character
        (r"\d\d\d", True, ()),  # a digit alone is in most replies: no requirement
    ],
)
def test_required_literals_are_what_every_match_must_contain(
    pattern: str, ignore_case: bool, clauses: tuple[tuple[str, ...], ...]
) -> None:
    found = required_literals(pattern, ignore_case, ascii=True)
    assert {frozenset(c) for c in found} == {frozenset(c) for c in clauses}


def test_white_space_is_only_known_in_ascii_text() -> None:
    pattern = r"\w+\s+(?:@|\(at\))\s+\w+"
    assert required_literals(pattern, False) == (("(at)", "@"),)
    assert required_literals(pattern, True) == ()  # case-insensitive: ASCII text only


@pytest.mark.parametrize(
    "pattern",
    [
        r"(\w+) \1",
        r"(?i)buy",
        r"(?:buy){e<=1}",
        r"[[a-z]--[aeiou]]x",
        r"\L<words>",
        r"\Gab",
        r"(?P<x>a)(?P=x)",
        r"(?(1)a|b)",
        r"(?#note)abc",
        r"abc{",
        r"\N{BULLET}x",
    ],
)
def test_syntax_outside_the_model_gets_no_gate(pattern: str) -> None:
    assert required_literals(pattern, True, ascii=True) == ()
    assert required_literals(pattern, False) == ()


def test_regex_case_folding_of_ascii_literals_is_plain_lower_case_on_ascii_text() -> None:
    """The premise of the case-insensitive prefilter, checked over every code point.

    Any character a case-insensitive regex matches to an ASCII letter or digit (or to a common
    multi-letter fold) must case-fold to it; where Python's Unicode tables lag the regex
    module's (unassigned characters), the prefilter is not used, since it only runs on ASCII.
    """
    chars = "\x00".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    bad = []
    for literal in [
        *string.ascii_lowercase,
        *string.digits,
        "ss",
        "st",
        "ff",
        "fi",
        "fl",
        "ffi",
        "ffl",
    ]:
        for m in regex.finditer(regex.escape(literal), chars, regex.I | regex.V1):
            found = m.group()
            if found.isascii():
                assert found.lower() == literal
            elif literal not in found.casefold():
                bad.append(found)
    assert all(not ch.isascii() for ch in bad)  # unassigned in this Python: never ASCII text


def ungated(check: PatternCheck) -> PatternCheck:
    return dataclasses.replace(
        check,
        patterns=tuple(Gated(g.pattern, (), ()) for g in check.patterns),
        exceptions=tuple(Gated(g.pattern, (), ()) for g in check.exceptions),
    )


def test_gated_pattern_rules_report_exactly_what_ungated_ones_do() -> None:
    policy = load_policy_text(r"""
rules:
  - {id: cs, type: pattern, ignore_case: false, patterns: ['\bURGENT\b', 'Stra(?:ß|ss)e']}
  - {id: ci, type: pattern, patterns: ['\bstra(?:ß|ss)e\b', 'k\w+n', 'fine', 'promise']}
  - {id: norm, type: pattern, normalize: true, patterns: ['\byou\s+should\s+buy\b'],
     exceptions: ['\bnot\s+\w+']}
""")
    linter = Linter.from_policy(None)
    rules = [r for r in (*policy.rules, *linter.policy.rules) if r.type == "pattern"]
    texts = corpus()
    assert any(g.ascii_clauses for r in rules for g in r.check.patterns)
    assert any(g.clauses for r in rules for g in r.check.patterns)
    for rule in rules:
        slow = ungated(rule.check)
        for text in texts:
            draft = Draft(text)
            assert list(rule.check.find(draft)) == list(slow.find(Draft(text))), (rule.id, text)


def test_phrase_anchor_words_never_hide_a_match() -> None:
    linter = Linter.from_policy(None)
    rule = linter.policy.rule("scripted-phrasing")

    class Unfiltered(type(rule.check)):  # type: ignore[misc]
        def may_match(self, keys: list[str]) -> bool:
            return True

    slow = Unfiltered(**{f.name: getattr(rule.check, f.name)
                         for f in dataclasses.fields(rule.check)})
    for text in corpus() + [
        "We apologise for any inconvenience caused.",
        "PLEASE BE ADVISED!",
        "rest\r\nassured",
        "Rest. Assured",
    ]:
        assert list(rule.check.find(Draft(text))) == list(slow.find(Draft(text))), text


_PERSONAL_DATA_TEXTS = [
    "Your card 4111 1111 1111 1111 has been refunded.",
    "SSN 078-05-1121 on file",
    "ssn: 123456780",
    "Card 4111-1111-1111-1111 https://t.co/4111111111111111",
    "٤١١١ ١١١١ ١١١١ ١١١١",
    "Call me on (415) 555-0132",
    "GB82 WEST 1234 5698 7654 32",
    "order 1234567 for $1,299.00",
    "@115712 thanks!",
    "dana.smith@gmail.com",
    "no digits",
    # @mentions and links next to numbers: the gates read the text without them.
    "@115712 1: your number 415-555-0132 is on file",
    "@115712 415-555-0132",
    "@4155550132 hi",
    "@user4155550132 hi",
    "@dana_4155550132 hi",
    "@ab 415 555 0132 and @cd",
    "@ab(415) 555-0132",
    "mail dana@4155550132.com or dana4155550132@x.com",
    "see https://x.com/?t=4155550132 now",
    "see https://x.com/a 415 555 0132 now",
    "x.com/415 555-0132 and WWW.x.com/4111111111111111",
    "https://web.archive.org/web/20200405031915/https://x.com then call 0344 493 0787",
    "https://x.com/?ssn=078-05-1121 078-05-1121",
    "rosa\u200b.lopez@example.org, @rosa",
    "a@b @ c@d.io x@-y.com x@\u00e9cole.fr \u00e9@x.com",
]


def _ungated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Open every gate of the personal-data rule, so its scans run on any text."""
    from replylint.checks.personal_data import PersonalDataCheck

    monkeypatch.setattr(personal_data, "_has_digit", lambda t: any(c.isdigit() for c in t))
    monkeypatch.setattr(personal_data, "_may_hold_email", lambda t: True)
    monkeypatch.setattr(PersonalDataCheck, "_gates", lambda self, text, urls: (True, True))


@pytest.mark.parametrize("text", _PERSONAL_DATA_TEXTS)
def test_personal_data_gates_never_hide_a_match(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    check = Linter.from_policy(None).policy.rule("personal-data").check
    fast = list(check.find(Draft(text)))
    _ungated(monkeypatch)
    assert list(check.find(Draft(text))) == fast


def test_personal_data_gates_on_real_replies(monkeypatch: pytest.MonkeyPatch) -> None:
    check = Linter.from_policy(None).policy.rule("personal-data").check
    texts = corpus()
    fast = [list(check.find(Draft(t))) for t in texts]
    assert any(fast)  # the texts hold personal data, so this tests something
    _ungated(monkeypatch)
    for text, found in zip(texts, fast, strict=True):
        assert list(check.find(Draft(text))) == found, text


@pytest.mark.parametrize(
    "template",
    [
        "'{match}' is {tier} language",
        "Sorry about the trouble, {customer}.",
        "{match!r} {x:>5}",
        "{0} and {}",
        "{a.b} {c[0]}",
        "{{literal}} {match}",
        "unclosed {match",
        "}",
        "{ñame}",
        "Sign the reply: end it with {expected} (found '{found}').",
        "",
        "{customer}, {agent}!",
    ],
)
@pytest.mark.parametrize(
    "values",
    [
        {},
        {"match": "damn", "tier": "mild", "customer": "Dana", "expected": "^MS", "found": ""},
        {"customer": "", "agent": "MS", "x": "7", "ñame": "n", "match": "x"},
    ],
)
def test_rendering_with_parsed_templates_equals_string_formatter(
    template: str, values: dict[str, str]
) -> None:
    assert render(template, values) == _render_slow(template, values)


@pytest.mark.parametrize(
    "text", ["one line", "two\nlines", "crlf\r\nlines\r\n", "cr\ronly", "emoji 🎉\nnext", ""]
)
def test_positions_without_a_line_index_equal_the_index(text: str) -> None:
    draft = Draft(text)
    index = LineIndex(text)
    for offset in range(len(text) + 1):
        assert draft.position(offset) == index.position(offset)


def test_caseless_characters_never_take_part_in_an_ascii_literal_match() -> None:
    """The premise of `literal_view`: the characters it lets through next to ASCII have no
    case, fold to nothing ASCII, and are not white space for the `regex` module."""
    from replylint.draft import _CASED_OR_SPACE

    caseless = [
        chr(c)
        for c in range(0x80, 0x110000)
        if not 0xD800 <= c <= 0xDFFF and _CASED_OR_SPACE.fullmatch(chr(c)) is None
    ]
    assert len(caseless) > 4000
    blob = "\x00".join(caseless)
    assert regex.search(r"\s", blob) is None
    assert all(not any(ch.isascii() for ch in c.casefold()) for c in caseless)
    for literal in [*string.ascii_lowercase, *string.digits, "ss", "st", "ff", "fi", "fl"]:
        assert (
            regex.search(regex.escape(literal), blob.replace("\x00", "\x01"), regex.I | regex.V1)
            is None
        )


def test_a_normalised_view_holds_no_character_that_matches_an_ascii_one_but_itself() -> None:
    """The premise of `folded_literal_view`: after NFKC and case folding, no character that
    the `regex` module matches to an ASCII letter or digit without case is left but those."""
    from replylint.text import normalize

    chars = [chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF]
    blob = "\x00".join(chars)
    others: set[str] = set()
    for literal in [*string.ascii_lowercase, *string.digits]:
        for prefix in ("(?-f)", ""):
            others |= {m.group() for m in regex.finditer(prefix + literal, blob,
                                                          regex.I | regex.V1)}
    assert others == {"\u0130", "\u017f", "\u212a"}  # İ, ſ, the Kelvin sign
    assert not [c for c in chars if others.intersection(normalize(c).text)]
    spaces = {m.group() for m in regex.finditer(r"\s", blob, regex.V1)}
    from replylint.draft import _UNICODE_SPACE

    assert spaces == set("".join(m.group() for m in _UNICODE_SPACE.finditer(blob)))


@pytest.mark.parametrize(
    ("text", "view"),
    [
        ("Hi THERE", "hi there"),
        ("Great 🎉👍🏽 ➡️ news", "great 🎉👍🏽 ➡️ news"),
        ("café", None),
        ("ſtrong buy", None),
        ("\u212a", None),
        ("a\u00a0b", None),
        ("a\u3000b", None),
    ],
)
def test_literal_view_lets_through_only_ascii_and_caseless_text(
    text: str, view: str | None
) -> None:
    from replylint.draft import literal_view

    assert literal_view(text) == view


def _disguises(word: str) -> list[str]:
    """A lexicon word in the disguises the profanity rule sees through, and near misses."""
    leet = word.translate(str.maketrans("aeios", "@31o$"))
    middle = len(word) // 2
    forms = [word, word.upper(), word.capitalize(), leet, word + "z", word + "ing",
             "x" + word + "y", " ".join(word), ".".join(word), "-".join(word), "_".join(word),
             word[:2] + "-" + word[2:], word[:middle] + "*" + word[middle + 1:],
             word[:1] + "*" * (len(word) - 2) + word[-1:], word[:1] + "'" + word[1:],
             "*" + word, "#*" + leet, "%" + word + "*", "x*" + word, " ".join(leet),
             "/".join(leet), "1/2 " + " ".join(word), "0.2." + ".".join(leet),
             " ".join(leet[:-1] + word[-1:]) + "!", "-".join(leet[:-1] + word[-1:]) + "#"]
    for i, ch in enumerate(word):
        if ch in "aeiou":
            forms.append(word[:i] + ch * 4 + word[i + 1:])
            break
    return [f"oh {form}, really" for form in forms] + [f"#{word}!", f"@{word}123 hi"]


def test_profanity_prefilter_never_hides_a_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cheap scan that skips most replies skips only replies without any lexicon hit."""
    from replylint.checks.profanity import ProfanityCheck
    from replylint.text import skeleton

    check = Linter.from_policy(None).policy.rule("profanity").check
    lexicon = check.lexicon
    words = sorted({w for w in lexicon.words if w.isalpha()} | set(lexicon.stems)
                   | set(lexicon.disguised) | {" ".join(p) for v in lexicon.phrases.values()
                                                for p, _ in v})
    texts = corpus() + [t for w in words for t in _disguises(w)]
    views = [skeleton(t).text for t in texts]
    fast = [check._scan(v) for v in views]
    assert sum(map(bool, fast)) > len(words)  # the disguises are found, so this tests something
    monkeypatch.setattr(ProfanityCheck, "_needs_scan", lambda self, text: True)
    for view, found in zip(views, fast, strict=True):
        assert check._scan(view) == found, view


def _random_pattern(rng: random.Random, depth: int = 0) -> str:
    atoms = ["a", "b", "ab", "ba", r"\s", r"\d", "[ab]", r"[\d$]", "[0-3]", " ", r"\$", ".",
             r"\t", "[ \t]", r"\w", r"[^a]", "x"]
    items = []
    for _ in range(rng.randint(1, 4)):
        roll = rng.random()
        if depth < 2 and roll < 0.15:
            item = "(?:" + "|".join(_random_pattern(rng, depth + 1)
                                    for _ in range(rng.randint(1, 3))) + ")"
        elif depth < 2 and roll < 0.22:
            item = "(?<=" + _random_pattern(rng, depth + 1) + ")"
        elif depth < 2 and roll < 0.27:
            item = "(?=" + _random_pattern(rng, depth + 1) + ")"
        else:
            item = rng.choice(atoms)
        if rng.random() < 0.3:
            item = "(?:" + item + ")" + rng.choice(["?", "*", "+", "{2}", "{1,3}", "{0,2}"])
        items.append(item)
    return "".join(items)


def test_required_literals_hold_for_random_patterns_and_texts() -> None:
    """Whatever text a regex matches holds a literal of each of its clauses, in the view the
    prefilters read (white space runs as one space): random patterns of the modelled syntax
    (classes, `\\s`, `\\d`, repeats, lookarounds) against random texts."""
    from replylint.draft import gate_view

    rng = random.Random(2026)
    alphabet = ["a", "b", "A", "x", "1", "7", "$", " ", "  ", "\t", "\n", ".", "ab", "ba "]
    checked = 0
    for _ in range(1500):
        pattern = _random_pattern(rng)
        for ignore_case in (True, False):
            compiled = regex.compile(pattern, (regex.I if ignore_case else 0) | regex.V1)
            clauses = required_literals(pattern, ignore_case, ascii=True)
            if not clauses:
                continue
            for _ in range(12):
                text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
                if compiled.search(text) is None:
                    continue
                view = gate_view(text.lower() if ignore_case else text)
                assert view is not None
                for clause in clauses:
                    assert any(literal in view for literal in clause), (pattern, text, clause)
                checked += 1
    assert checked > 2000
