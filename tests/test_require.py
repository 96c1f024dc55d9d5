"""The `require` rule type: something must (or must not) appear at the start, end or anywhere."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from replylint import Linter
from replylint.errors import PolicyError
from replylint.model import Edit
from replylint.policy import load_policy_text

SIGNATURE = r"""
rules:
  - id: signature
    type: require
    message: "Sign the reply with {expected} (found '{found}')."
    position: end
    pattern: '\^{agent}'
    placeholders: {agent: '[A-Z]{2,3}'}
    skip: [url, hashtag, thread-counter, emoji, whitespace, punctuation]
    fix: ' ^{agent}'
"""


def violations(policy_yaml: str, text: str,
               context: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    report = Linter(load_policy_text(policy_yaml)).check(text, context)
    return [(text[v.start:v.end], v.start, v.end, v.message, v.fix) for v in report.violations]


@pytest.mark.parametrize("text, context", [
    ("Sorry about that! ^MS", None),
    ("Sorry! ^MS https://t.co/abc", None),
    ("Sorry ^MS 1/2", None),
    ("Sorry ^MS (2/3)", None),
    ("Sorry ^MS #WeCare 🙂", None),
    ("Sorry 2/2. ^MS", None),
    ("Thanks!\r\n^MS", None),
    ("Thanks! ^MS.", None),
    ("Thanks! ^MS👍🏽", None),
    ("Thanks! ^MS \u200b", None),
    ("Thanks! ^MS https://t.co/x 🙂 2/2 ", None),
    ("Sorry ^JK", {"agent": "JK"}),
], ids=["plain", "url-after", "counter-after", "paren-counter", "hashtag-emoji", "counter-before",
        "own-line-crlf", "full-stop", "emoji-with-skin-tone", "zero-width", "many-after",
        "context-agent"])
def test_signature_present(text: str, context: dict[str, str] | None) -> None:
    assert violations(SIGNATURE, text, context) == []


@pytest.mark.parametrize("text, context, expected", [
    ("Sorry about that!", None,
     [("that", 12, 16, "Sign the reply with ^{agent} (found 'that').", None)]),
    ("Sorry ^MS", {"agent": "JK"},
     # Someone else's signature is replaced, not followed by a second one.
     [("^MS", 6, 9, "Sign the reply with ^JK (found '^MS').", (Edit(6, 9, "^JK"),))]),
    ("Sorry about that! https://t.co/x", {"agent": "JK"},
     [("that", 12, 16, "Sign the reply with ^JK (found 'that').", (Edit(17, 17, " ^JK"),))]),
    ("2^10 is 1024", None,
     [("1024", 8, 12, "Sign the reply with ^{agent} (found '1024').", None)]),
    ("^_^", None, [("", 0, 0, "Sign the reply with ^{agent} (found '').", None)]),
    ("", {"agent": "JK"}, [("", 0, 0, "Sign the reply with ^JK (found '').", None)]),
    (" \r\n ", None, [("", 0, 0, "Sign the reply with ^{agent} (found '').", None)]),
    ("Reach us 24/7", None,
     [("24/7", 9, 13, "Sign the reply with ^{agent} (found '24/7').", None)]),
    ("Thanks ^MS and more", None,
     [("more", 15, 19, "Sign the reply with ^{agent} (found 'more').", None)]),
    ("Thanks ^M\u200bS", None, [("S", 10, 11, "Sign the reply with ^{agent} (found 'S').", None)]),
    ("Ok ^ms", None, [("^ms", 3, 6, "Sign the reply with ^{agent} (found '^ms').", None)]),
], ids=["missing", "wrong-agent-fix", "fix-before-url", "caret-inside-number", "kaomoji",
        "empty", "whitespace-only", "not-a-thread-counter", "not-last", "zero-width-inside",
        "case-sensitive"])
def test_signature_missing(text: str, context: dict[str, str] | None,
                           expected: list[tuple[Any, ...]]) -> None:
    assert violations(SIGNATURE, text, context) == expected


def test_fix_applied_gives_a_signed_reply() -> None:
    text = "Sorry about that! 🙂"
    report = Linter(load_policy_text(SIGNATURE)).check(text, {"agent": "JK"})
    (edit,) = report.violations[0].fix or ()
    fixed = text[:edit.start] + edit.replacement + text[edit.end:]
    assert fixed == "Sorry about that! ^JK 🙂"
    assert Linter(load_policy_text(SIGNATURE)).check(fixed, {"agent": "JK"}).violations == ()


def test_without_skip_only_the_last_word_counts() -> None:
    policy = SIGNATURE.replace("skip: [url, hashtag, thread-counter, emoji, whitespace, "
                               "punctuation]", "skip: []")
    assert violations(policy, "Thanks ^MS") == []
    assert [v[0] for v in violations(policy, "Thanks ^MS.")] == ["^MS."]
    assert [v[0] for v in violations(policy, "Thanks ^MS ")] == ["^MS"]
    assert [v[0] for v in violations(policy, "Thanks ^MS https://t.co/x")] == ["https://t.co/x"]


GREETING = r"""
rules:
  - id: greeting
    type: require
    position: start
    pattern: '(?:hi|hello|hey) {customer}'
    placeholders: {customer: '\p{Lu}\w*'}
    ignore_case: true
    skip: [mention, whitespace, punctuation]
    fix: 'Hi {customer}, '
"""


@pytest.mark.parametrize("text, context, expected", [
    ("Hi Dana, sorry!", None, []),
    ("@dana_k @acme  Hello Dana! Sorry.", None, []),
    ("__cust__ hey Sam", None, []),
    ("\u00a1Hi Dana!", None, []),
    ("Hi Dana", {"customer": "Dana"}, []),
    ("Highly Dana", None, [("Highly", 0, 6, "greeting: 'Highly'", None)]),
    ("Sorry Dana", {"customer": "Dana"},
     [("Sorry", 0, 5, "greeting: 'Sorry'", (Edit(0, 0, "Hi Dana, "),))]),
    ("@dana Sorry!", {"customer": "Dana"},
     [("Sorry", 6, 11, "greeting: 'Sorry'", (Edit(6, 6, "Hi Dana, "),))]),
    ("Hi Sam", {"customer": "Dana"}, [("Hi", 0, 2, "greeting: 'Hi'", (Edit(0, 0, "Hi Dana, "),))]),
], ids=["plain", "mentions", "twacs-placeholder", "inverted-exclamation", "context",
        "inside-longer-word", "missing-fix", "fix-after-mention", "wrong-name"])
def test_greeting_at_the_start(text: str, context: dict[str, str] | None,
                               expected: list[tuple[Any, ...]]) -> None:
    assert violations(GREETING, text, context) == expected


@pytest.mark.parametrize("position, text, expected", [
    ("anywhere", "Call 1-800-FLOWERS or 1-800-FLOWERS", [("1-800-FLOWERS", 5, 18),
                                                         ("1-800-FLOWERS", 22, 35)]),
    ("anywhere", "Call us", []),
    ("end", "Call 1-800-FLOWERS!", [("1-800-FLOWERS", 5, 18)]),
    ("end", "1-800-FLOWERS is our line", []),
    ("start", "1-800-FLOWERS is our line", [("1-800-FLOWERS", 0, 13)]),
    ("start", "Call 1-800-FLOWERS", []),
], ids=["anywhere-each", "anywhere-none", "end", "end-elsewhere", "start", "start-elsewhere"])
def test_must_not_appear(position: str, text: str, expected: list[tuple[str, int, int]]) -> None:
    policy = f"""
rules:
  - id: no-vanity-number
    type: require
    present: false
    position: {position}
    pattern: '1-800-[A-Z]+'
    skip: [punctuation, whitespace]
"""
    assert [v[:3] for v in violations(policy, text)] == expected


def test_required_anywhere_missing_is_zero_width_at_start_with_fix_at_end() -> None:
    policy = r"""
rules:
  - id: disclaimer
    type: require
    pattern: 'not (?:financial|investment) advice'
    ignore_case: true
    fix: ' Not financial advice.'
"""
    assert violations(policy, "Rates went up.  ") == [
        ("", 0, 0, "disclaimer: ''", (Edit(14, 14, " Not financial advice."),))]
    assert violations(policy, "This is NOT investment advice.") == []


def test_unknown_context_value_without_fallback_is_not_checked() -> None:
    policy = r"""
rules:
  - id: signature
    type: require
    position: end
    pattern: '\^{agent}'
"""
    assert violations(policy, "Thanks ^MS", {"agent": "MS"}) == []
    assert [v[0] for v in violations(policy, "Thanks ^MS", {"agent": "JK"})] == ["^MS"]
    assert violations(policy, "Thanks, no signature") == []


def test_fuzzy_braces_stay_regex_syntax() -> None:
    policy = r"""
rules:
  - id: sign-off
    type: require
    position: end
    pattern: '(?:regards){e<=1}'
    skip: [punctuation, whitespace]
"""
    assert violations(policy, "Kind regads.") == []
    assert [v[0] for v in violations(policy, "Kind wishes.")] == ["wishes"]


def test_each_context_value_compiles_once() -> None:
    linter = Linter(load_policy_text(SIGNATURE))
    check = linter.policy.rule("signature").check
    for agent in ["AB", "CD", "AB", "CD", None]:
        linter.check("Thanks ^AB", {"agent": agent} if agent else None)
    assert check.compiled.cache_info().currsize == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize("rule, messages", [
    (r"""pattern: '\^{agnt}'""",
     ["<string>:6:14: rules[0].pattern: unknown placeholder {agnt}"]),
    (r"""pattern: '\^[A-Z'""",
     ["<string>:6:14: rules[0].pattern: invalid regular expression: unterminated character set "
      "at position 6"]),
    (r"""pattern: '\^{agent}('""",
     ["<string>:6:14: rules[0].pattern: invalid regular expression: missing )"]),
    ("pattern: '{agent}'\n    placeholders: {agent: '[A-Z'}",
     ["<string>:7:27: rules[0].placeholders.agent: invalid regular expression"]),
    ("pattern: '{agent}'\n    fix: ' ^{initials}'",
     ["<string>:7:10: rules[0].fix: unknown placeholder {initials}"]),
    ("pattern: 'x'\n    present: false\n    fix: ' ^x'",
     ["<string>:8:10: rules[0].fix: a fix inserts a missing item; it needs `present: true`"]),
    ("pattern: 'x'\n    position: middle",
     ["<string>:7:15: rules[0].position: expected one of 'start', 'end', 'anywhere', "
      "found 'middle'"]),
    ("pattern: 'x'\n    skip: [url, links]",
     ["<string>:7:17: rules[0].skip[1]: expected one of 'url', 'hashtag', 'mention', "
      "'thread-counter', 'emoji', 'whitespace', 'punctuation', found 'links'"]),
    ("pattern: ''", ["<string>:6:14: rules[0].pattern: must not be empty"]),
    (r"""pattern: '\^{a}{b}('""",
     ["rules[0].pattern: unknown placeholder {a}", "rules[0].pattern: unknown placeholder {b}"]),
], ids=["unknown-placeholder", "bad-regex", "bad-regex-with-placeholder", "bad-fallback",
        "unknown-fix-placeholder", "fix-needs-present", "bad-position", "bad-skip", "empty",
        "all-errors"])
def test_option_errors_point_at_the_yaml(rule: str, messages: list[str]) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy_text(f"rules:\n  - id: signature\n    type: require\n    severity: info\n"
                         f"\n    {rule}\n")
    for message in messages:
        assert message in str(info.value)


SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.mark.skipif(not (SHARED / "brand-replies" / "brand_replies.jsonl").is_file(),
                    reason="shared evaluation data not available")
def test_real_signed_replies_pass_and_unsigned_ones_are_flagged() -> None:
    """Brands that sign with ^XX: the rule accepts their replies and flags them once stripped."""
    policy = SIGNATURE.replace("'[A-Z]{2,3}'", "'[A-Za-z]{1,15}'")
    linter = Linter(load_policy_text(policy))
    signing = {"AskRBC", "VerizonSupport", "XboxSupport", "AdobeCare", "MojangSupport"}
    replies = []
    with open(SHARED / "brand-replies" / "brand_replies.jsonl", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            if record["brand"] in signing and "^" in record["text"]:
                replies.append(record["text"])
    sample = random.Random(7).sample(replies, min(400, len(replies)))
    flagged = [t for t in sample if linter.check(t).violations]
    assert len(sample) >= 300
    assert len(flagged) <= len(sample) // 50, flagged[:5]
    unsigned = [t[:t.rindex("^")].rstrip() or "x" for t in sample]
    assert all(len(linter.check(t).violations) == 1 for t in unsigned if "^" not in t)


def test_context_values_are_regex_escaped() -> None:
    policy = SIGNATURE.replace("'[A-Z]{2,3}'", "'[A-Z][A-Z.]{1,3}'")
    assert violations(policy, "Sorry ^J.K", {"agent": "J.K"}) == []
    assert [v[0] for v in violations(policy, "Sorry ^JxK", {"agent": "J.K"})] == ["^JxK"]


@pytest.mark.parametrize("agent", ["Maya Smith", "^MS", "ms", "  ", "12"])
def test_a_context_value_its_placeholder_does_not_allow_counts_as_unknown(agent: str) -> None:
    """Regression: agent "Maya Smith" let "^Maya Smith" pass and offered ' ^Maya Smith'."""
    assert violations(SIGNATURE, "Thanks ^AB", {"agent": agent}) == []
    assert violations(SIGNATURE, "Thanks", {"agent": agent}) == [
        ("Thanks", 0, 6, "Sign the reply with ^{agent} (found 'Thanks').", None)]


@pytest.mark.parametrize("text, fixed", [
    ("Thanks^MS", "Thanks ^JK"),
    ("Thanks ^ms", "Thanks ^JK"),
    ("Thanks -JK", "Thanks ^JK"),
    ("Thanks ~JK!", "Thanks ^JK!"),
    ("Thanks via DM", "Thanks via DM ^JK"),
], ids=["glued", "lower-case", "dash-style", "tilde-before-punctuation", "acronym-kept"])
def test_the_fix_replaces_a_near_miss_instead_of_adding_a_second(text: str, fixed: str) -> None:
    policy = SIGNATURE + r"""    replace: ['\^[A-Za-z]{2,3}', '[-~][A-Z]{2,3}']
"""
    ((_, _, _, _, fix),) = violations(policy, text, {"agent": "JK"})
    (edit,) = fix
    assert text[:edit.start] + edit.replacement + text[edit.end:] == fixed


def test_describe_writes_unknown_placeholders_for_people() -> None:
    policy = SIGNATURE + "    describe: {agent: XX}\n"
    assert [v[3] for v in violations(policy, "Thanks")] == [
        "Sign the reply with ^XX (found 'Thanks')."]


def test_settings_give_placeholder_values_the_context_overrides() -> None:
    policy = "settings: {agent: AB}\n" + SIGNATURE
    assert violations(policy, "Thanks ^AB") == []
    assert [v[3] for v in violations(policy, "Thanks ^AB", {"agent": "JK"})] == [
        "Sign the reply with ^JK (found '^AB')."]


@pytest.mark.parametrize("extra, message", [
    ("    replace: ['(']\n", "rules[0].replace[0]: invalid regular expression: missing ) at "
                            "position 1"),
    ("    describe: {agnt: XX}\n", "rules[0].describe.agnt: unknown placeholder {agnt}"),
])
def test_bad_replace_and_describe_are_policy_errors(extra: str, message: str) -> None:
    with pytest.raises(PolicyError) as err:
        load_policy_text(SIGNATURE + extra)
    assert message in str(err.value)


def test_last_word_fast_path_agrees_with_the_token_regex() -> None:
    """Printable ASCII replies find their last word with `rfind`; the regex path is the
    definition (white space and invisible characters separate tokens)."""
    check = load_policy_text(SIGNATURE).rules[0].check
    rng = random.Random(3)
    pieces = ["^MS", "Thanks!", "ok", " ", "  ", "https://t.co/x", "#Tag", "1/2", "(2/3).", "!!",
              "...", "^_^", "a-b", "x?"]
    texts = ["", " ", "   ", "word", "word   ", "  word", "1/2", "Thanks ^MS. 2/2 "]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 7))) for _ in range(5000)]
    for text in texts:
        assert text.isascii() and text.isprintable()
        assert check._last_word(text) == check._last_word_any(text), text
