"""The `profanity` rule type: obfuscation folding, exact spans, tiers, Scunthorpe safety, options.

Warning: the test data below necessarily spells out obscene words and a few slurs.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

from replylint import Linter, PolicyError, Severity
from replylint.checks.profanity import build_lexicon
from replylint.model import Context, Decision
from replylint.policy import load_policy_text

REPO = Path(__file__).resolve().parents[1]
PROFANITY_DATA = REPO.parent / "shared" / "data" / "profanity"
LEXICONS = REPO / "src" / "replylint" / "lexicons"


def linter(options: str = "", severity: str = "error") -> Linter:
    return Linter(load_policy_text(
        "rules:\n"
        "  - id: profanity\n"
        "    type: profanity\n"
        f"    severity: {severity}\n"
        "    message: \"'{match}' is {tier} language ({term})\"\n" + options))


DEFAULT = linter()


def found(text: str, lint: Linter = DEFAULT, context: Context | None = None
          ) -> list[tuple[str, str]]:
    """(exact original span, tier) of every violation."""
    report = lint.check(text, context)
    return [(text[v.start:v.end], v.message.split(" is ")[1].split()[0])
            for v in report.violations]


# --------------------------------------------------------------------------- obfuscation

@pytest.mark.parametrize("text, span", [
    ("What a fuck up", "fuck up"),
    ("that f.u.c.k thing", "f.u.c.k"),
    ("that f u c k thing", "f u c k"),
    ("that f-u-c-k thing", "f-u-c-k"),
    ("that f_u_c_k thing", "f_u_c_k"),
    ("that s/h/i/t again", "s/h/i/t"),
    ("who the f*ck cares", "f*ck"),
    ("who the f**k cares", "f**k"),
    ("who the f*u*c*k cares", "f*u*c*k"),
    ("this is s#!t", "s#!t"),
    ("this is sh*t.", "sh*t"),
    ("a sh*tty day", "sh*tty"),
    ("what a c*ntface", "c*ntface"),
    ("fuuuuck me", "fuuuuck"),
    ("Oh shiiiit.", "shiiiit"),
    ("ffffuck", "ffffuck"),
    ("5h1t happens", "5h1t"),
    ("$h!t happens", "$h!t"),
    ("total b1tch", "b1tch"),
    ("that's bull-shit", "bull-shit"),
    ("that's bullsh1t!", "bullsh1t"),
    ("total @sshole!", "@sshole"),
    ("p0rn links", "p0rn"),
    ("#fuckthis", "fuckthis"),
    ("**hell** no", "hell"),
    ("Don't be a Dick!", "Dick"),
    ("f'ing great", "f'ing"),
    ("ｆｕｃｋ", "ｆｕｃｋ"),                        # full-width letters
    ("what the fu\u0441k", "what the fu\u0441k"),  # Cyrillic es for c, in a listed phrase
    ("oh fu\u0441k.", "fu\u0441k"),
    ("\u0455hit", "\u0455hit"),                    # Cyrillic dze for s
    ("fu\u200bck it", "fu\u200bck"),               # zero-width space inside
    ("sh\u202eit", "sh\u202eit"),                  # bidi override inside
    ("f\u00fcck", "f\u00fcck"),                    # precomposed accent
    ("f\u0301uck", "f\u0301uck"),                  # combining mark after the first letter
    ("fuck\u0301", "fuck\u0301"),                  # combining mark after the last letter
    ("😀fuck", "fuck"),                            # emoji right before the word
    ("👨‍👩‍👧 shit", "shit"),                           # ZWJ emoji sequence before the word
])
def test_obfuscated_spellings_are_found_with_their_exact_span(text: str, span: str) -> None:
    assert [s for s, _ in found(text)] == [span]


@pytest.mark.parametrize("text, spans", [
    ("fucking fucked shitty bullshit motherfucker assholes",
     ["fucking", "fucked", "shitty", "bullshit", "motherfucker", "assholes"]),
    ("bullshitting and shittiest", ["bullshitting", "shittiest"]),
    ("a.s.s and a_s_s and a-s-s", ["a.s.s", "a_s_s", "a-s-s"]),
    ("you a s s h o l e", ["a s s h o l e"]),
    ("I said f u c k y o u", ["f u c k y o u"]),
])
def test_inflections_compounds_and_joined_letters(text: str, spans: list[str]) -> None:
    assert [s for s, _ in found(text)] == spans


def test_crlf_draft_reports_exact_span_line_and_column() -> None:
    text = "Hi Dana,\r\nthat's bullsh1t, sorry.\r\n^MS"
    (v,) = DEFAULT.check(text).violations
    assert (text[v.start:v.end], v.line, v.column, v.end_line, v.end_column) == (
        "bullsh1t", 2, 8, 2, 16)


def test_emoji_modifier_after_a_gesture_is_part_of_the_span() -> None:
    text = "ok 🖕🏽 bye"
    assert found(text) == [("🖕🏽", "strong")]


# --------------------------------------------------------------------------- hard negatives

@pytest.mark.parametrize("text", [
    "Scunthorpe United play on Saturday.",
    "Your assessment is booked; a passenger assistance team will meet you.",
    "Try the cocktail bar near the cockpit-themed lounge.",
    "We stock every Dickens title and the new Sussex guide.",
    "Shiitake and shitake mushrooms are both in stock.",
    "Book a table at Hell's Kitchen!",
    "hello! Our therapist will call you.",
    "Please sign the document and press the button to pass.",
    "Business class upgrades are available.",
    "I'm a s s... sorry, typo!",
    "Your refund of $45 arrives by 5pm on 3/4, ref #A55.",
    "The Galaxy A55 and A320 flights are fine.",
    "Sorry for the wait, Harshit.",
    "Our Maine Coon food is back, and so is the Bloody Mary mix.",
    "Moby Dick and spotted dick are both on the menu.",
    "A chink in the armour, spick and span.",
    "He mishit the ball and sniggered; the sextant was niggling.",
    "Flights to Niger and Nigeria resume Monday.",
    "Call us on 1-800-555-0100 or visit https://t.co/fUcK1234.",
    "Email dick.smith@example.com for help.",
    "Come hell or high water, we'll fix it.",
    "@dickens_fan thanks, we'll escort you to the gate.",
    "Got it: a b c d, then x y z.",
    "U.S. and e.g. and a.m. are fine.",
    "The Wankel engine is a classic.",
    "Homo sapiens, magna cum laude.",
])
def test_innocent_replies_are_not_flagged(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize("text, context", [
    ("Hi Dick, thanks for waiting!", None),
    ("Thanks Dick!", None),
    ("Hello Dick Smith, sorry about that.", None),
    ("@HPSupport Dick, please contact us by DM.", None),
    ("Thanks for waiting, Dick!", None),
    ("Happy to help. Dick will call you back.", Context(customer="Dick Jones")),
])
def test_a_customer_named_dick_is_a_name_not_profanity(text: str, context: Context | None) -> None:
    assert found(text, context=context) == []


@pytest.mark.parametrize("text, span", [
    ("Don't be such a dick, ok?", "dick"),
    ("hi dick, thanks", "dick"),                    # not written as a name
    ("Dick head!", "Dick"),
])
def test_dick_is_flagged_when_not_written_as_a_name(text: str, span: str) -> None:
    assert found(text) == [(span, "strong")]


@pytest.mark.parametrize("text", [
    "Hi Jiggs, your bag is on the way.",            # one list's spelling, written as a name
    "Hi Nigah. Flight #3629 is on time.",
    "The Wankdorf stadium shuttle leaves at 6.",     # a stem inside a capitalised name
    "Thanks, Mr Dikshit, it's set up.",
    "The Damn Yankees soundtrack is on sale.",       # a mild word in a title
    "The 'Hell or High Water' Blu-ray is in the sale.",
    "Ask for the cock tap in store.",                # plumbing
    "The stop cock is under the sink.",
])
def test_names_titles_and_plumbing_are_not_profanity(text: str) -> None:
    """Audit of issue 3: brand replies greeting Jiggs and Nigah, and these proper nouns."""
    assert found(text) == []


@pytest.mark.parametrize("text, span", [
    ("Damn Yankees, always late.", "Damn"),         # first in the sentence: not a title
    ("Damn, sorry!", "Damn"),                        # a one-list word first in a reply
    ("hi jiggs", "jiggs"),                           # not written as a name
    ("Wankdorf is closed.", "Wankdorf"),             # first in the sentence
])
def test_the_name_and_title_exemptions_need_a_name_position(text: str, span: str) -> None:
    assert [s for s, _ in found(text)] == [span]


@pytest.mark.parametrize("text, span, tier", [
    ("F*** off with that fee", "F***", "strong"),
    ("S*** happens, sorry.", "S***", "strong"),
    ("Our app is p!ss-poor today.", "p!ss", "mild"),
    ("that's piss poor", "piss", "mild"),
])
def test_one_letter_masks_and_piss_are_caught(text: str, span: str, tier: str) -> None:
    assert found(text) == [(span, tier)]


def test_names_in_greetings_can_be_switched_off() -> None:
    strict = linter("    allow_names_in_greetings: false\n")
    assert found("Hi Dick, thanks!", strict) == [("Dick", "strong")]


# --------------------------------------------------------------------------- tiers

def test_strong_hits_take_the_rule_severity_and_mild_hits_mild_severity() -> None:
    text = "Damn, this bullshit again. What the hell."
    report = DEFAULT.check(text)
    assert [(text[v.start:v.end], v.rule, v.severity, v.message) for v in report.violations] == [
        ("Damn", "profanity", Severity.WARNING, "'Damn' is mild language (damn)"),
        ("bullshit", "profanity", Severity.ERROR, "'bullshit' is strong language (bullshit)"),
        ("hell", "profanity", Severity.WARNING, "'hell' is mild language (hell)"),
    ]
    assert report.decision is Decision.BLOCK


@pytest.mark.parametrize("mild_severity, expected", [
    ("info", [Severity.INFO]),
    ("error", [Severity.ERROR]),
    ("off", []),
])
def test_mild_severity_option(mild_severity: str, expected: list[Severity]) -> None:
    lint = linter(f"    mild_severity: {mild_severity}\n", severity="warning")
    assert [v.severity for v in lint.check("Oh crap, sorry!").violations] == expected


@pytest.mark.parametrize("text, tier", [
    ("crap", "mild"), ("crappy", "mild"), ("bloody", "mild"), ("bugger", "mild"),
    ("goddamn", "mild"), ("arse", "mild"), ("fuck", "strong"), ("shit", "strong"),
    ("cunt", "strong"), ("bitch", "strong"), ("faggot", "strong"), ("retard", "strong"),
    ("kike", "strong"), ("🖕", "strong"),
])
def test_tiers(text: str, tier: str) -> None:
    assert found(f"well {text} then") == [(text, tier)]


# --------------------------------------------------------------------------- options

def test_allow_words_and_phrases() -> None:
    lint = linter("    allow: [bloody, go to hell, ASS]\n")
    assert found("bloody hell, go to hell, you ass, damn", lint) == [
        ("hell", "mild"), ("damn", "mild")]


def test_extra_words_get_the_same_obfuscation_folding() -> None:
    lint = linter("    words: [darn]\n    mild_words: [heck, golly gosh]\n")
    assert found("d4rn it, what the h3ck, golly  gosh", lint) == [
        ("d4rn", "strong"), ("h3ck", "mild"), ("golly  gosh", "mild")]


def test_mild_words_can_lower_a_shipped_word() -> None:
    lint = linter("    mild_words: [bastard]\n")
    assert found("you bastard", lint) == [("bastard", "mild")]


@pytest.mark.parametrize("options, expected", [
    ("    mild_severity: loud\n",
     ("<string>:6:20: rules[0].mild_severity: expected one of 'error', 'warning', 'info', "
      "'off', found 'loud'")),
    ("    words: darn\n", "<string>:6:12: rules[0].words: expected a list of text, found 'darn'"),
    ("    allow_names: true\n", "<string>:6:5: rules[0].allow_names: unknown option"),
    ("    words: ['***']\n", "<string>:6:13: rules[0].words[0]: '***' has no letters or digits"),
    ("    words: [darn]\n    allow: [Darn]\n",
     "<string>:7:13: rules[0].allow[0]: 'Darn' is also listed in `words` or `mild_words`"),
])
def test_option_errors_point_at_the_yaml(options: str, expected: str) -> None:
    with pytest.raises(PolicyError) as err:
        linter(options)
    assert expected in str(err.value)


# --------------------------------------------------------------------------- the lexicon

def test_shipped_lexicon_is_well_formed() -> None:
    rows = [line.split("\t") for line in
            (LEXICONS / "profanity_en.tsv").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    assert rows and all(len(r) == 5 for r in rows)
    assert {r[1] for r in rows} == {"mild", "strong"}
    assert {r[2] for r in rows} == {"word", "phrase", "disguised", "prefix", "suffix", "infix"}
    excluded = {line.split("\t")[0] for line in
                (LEXICONS / "profanity_excluded_en.tsv").read_text(encoding="utf-8").splitlines()
                if line and not line.startswith("#")}
    words = {r[0] for r in rows if r[2] in ("word", "phrase")}
    assert {"escort", "xx", "suck", "tit", "sex", "twinkie"} <= excluded
    assert not words & excluded
    assert (LEXICONS / "ATTRIBUTION.md").is_file()


def test_allowing_a_word_removes_it_from_a_compiled_lexicon() -> None:
    lex = build_lexicon({}, {"hell"})
    assert (lex.word("hell"), lex.word("damn") is not None) == (None, True)


def _build_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "build_profanity_lexicon", REPO / "scripts" / "build_profanity_lexicon.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_build_script_skips_cleanly_without_the_source_lists(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _build_script().main(["build", str(tmp_path / "missing"), str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.startswith("skipped: no profanity source lists")
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not PROFANITY_DATA.is_dir(), reason="needs ../shared/data/profanity")
def test_shipped_lexicon_is_what_the_build_script_makes(tmp_path: Path) -> None:
    _build_script().build(PROFANITY_DATA, tmp_path)
    for name in ("profanity_en.tsv", "profanity_safe_en.txt", "profanity_excluded_en.tsv"):
        assert (tmp_path / name).read_text() == (LEXICONS / name).read_text(), name


@pytest.mark.skipif(not PROFANITY_DATA.is_dir(), reason="needs ../shared/data/profanity")
def test_recall_and_false_alarms_on_the_public_lists() -> None:
    """Regression floor: obfuscated Strong/Severe Surge rows (never put in the lexicon) and the
    high-confidence Scunthorpe hard negatives, each inside a sentence."""
    with (PROFANITY_DATA / "surge_profanity_en.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh)
                if r["severity_description"] in ("Strong", "Severe")
                and any(not (c.isalpha() or c == " ") for c in r["text"])]
    caught = sum(bool(DEFAULT.check(f"I think that is {r['text']} honestly.").violations)
                 for r in rows)
    with (PROFANITY_DATA / "scunthorpe_candidates.csv").open(encoding="utf-8") as fh:
        clean = [r["word"] for r in csv.DictReader(fh) if r["is_compound_of_term"] == "false"]
    alarms = [w for w in clean if DEFAULT.check(f"We checked the {w} for you today.").violations]
    assert len(rows) > 200 and caught / len(rows) >= 0.95
    assert len(alarms) / len(clean) <= 0.002, alarms
