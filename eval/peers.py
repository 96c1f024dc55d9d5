"""replylint beside the libraries users would otherwise pick, on the same texts in one run.

    python eval/peers.py

Profanity: replylint's `profanity` rule vs better-profanity and alt-profanity-check on
(a) the obfuscated Strong/Severe Surge spellings inside sentences (positives) and the clean
Scunthorpe words inside sentences (negatives) from ../shared/data/profanity, and (b) the dev set's
profanity labels. Personal data: replylint's `personal-data` vs presidio-analyzer's pattern
recognizers (EmailRecognizer, PhoneRecognizer, CreditCardRecognizer, used directly without the
spaCy NLP engine, so no model download) on the dev set's email/phone/card records.

Peers are benchmark-only (`pip install -e .[eval]`); a missing one prints a skip line.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evaluate import DEVSET, Scores, load_records, score
from real_data import (
    CLEAN_TEMPLATES,
    DATA,
    PROFANE_TEMPLATES,
    in_sentences,
    scunthorpe_words,
    surge_obfuscations,
)

from replylint import Linter, load_policy
from replylint.policy import id_matches

PII_KINDS = ("email", "phone", "card")
# Sub-rules that find one of those kinds under another name: an email written "dana at gmail dot
# com" is an email.
KIND_OF_SUB_ID = {"spelled-out-email": "email"}
Detector = Callable[[Sequence[str]], list[bool]]


@dataclass(frozen=True)
class Result:
    name: str
    scores: Scores
    per_second: float


def measure(name: str, detect: Detector, texts: Sequence[str], expected: Sequence[bool]) -> Result:
    started = time.perf_counter()
    predicted = detect(texts)
    elapsed = time.perf_counter() - started
    return Result(name, score(zip(expected, predicted)), len(texts) / elapsed if elapsed else 0.0)


def replylint_detector(policy: str, rule: str, kinds: tuple[str, ...] = ()) -> Detector:
    linter = Linter(load_policy(policy).select([rule]), redact=False)

    def detect(texts: Sequence[str]) -> list[bool]:
        out = []
        for t in texts:
            vs = linter.check(t).violations
            out.append(any(id_matches(v.rule, rule) and (not kinds or _kind(v.rule) in kinds)
                           for v in vs))
        return out

    return detect


def _kind(rule_id: str) -> str:
    last = rule_id.split(".")[-1]
    return KIND_OF_SUB_ID.get(last, last)


def better_profanity_detector() -> Detector | str:
    try:
        from better_profanity import profanity
    except ImportError:
        return "better-profanity not installed"
    profanity.load_censor_words()
    return lambda texts: [profanity.contains_profanity(t) for t in texts]


def alt_profanity_check_detector() -> Detector | str:
    try:
        from profanity_check import predict
    except ImportError:
        return "alt-profanity-check not installed"
    return lambda texts: [bool(x) for x in predict(list(texts))]


def presidio_detector() -> Detector | str:
    try:
        import tldextract
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            PhoneRecognizer,
        )
    except ImportError:
        return "presidio-analyzer not installed"
    # The email recognizer validates TLDs with tldextract, which would fetch the public suffix
    # list over the network; its bundled snapshot gives the same answers offline.
    offline = tldextract.TLDExtract(suffix_list_urls=())
    tldextract.extract = offline  # type: ignore[assignment]
    recognizers = [EmailRecognizer(), PhoneRecognizer(), CreditCardRecognizer()]

    def detect(texts: Sequence[str]) -> list[bool]:
        out = []
        for t in texts:
            found = False
            for r in recognizers:
                if r.analyze(t, entities=r.supported_entities,
                             nlp_artifacts=None):  # type: ignore[arg-type]  # patterns only
                    found = True
                    break
            out.append(found)
        return out

    return detect


def table(title: str, results: list[Result | str], positives: int, negatives: int) -> None:
    print(f"\n## {title} ({positives} positives, {negatives} negatives)")
    print(f"{'tool':<22} {'TP':>4} {'FP':>4} {'FN':>4} {'recall':>7} {'false alarms':>12} "
          f"{'prec':>6} {'F1':>6} {'texts/s':>9}")
    for r in results:
        if isinstance(r, str):
            print(f"skip: {r}")
            continue
        s = r.scores
        fa = s.fp / (s.fp + s.tn) if s.fp + s.tn else 0.0
        print(f"{r.name:<22} {s.tp:>4} {s.fp:>4} {s.fn:>4} {s.recall or 0:>7.1%} {fa:>12.2%} "
              f"{s.precision or 0:>6.3f} {s.f1 or 0:>6.3f} {r.per_second:>9,.0f}")


def run_all(name_detectors: list[tuple[str, Detector | str]], texts: Sequence[str],
            expected: Sequence[bool]) -> list[Result | str]:
    out: list[Result | str] = []
    for name, det in name_detectors:
        out.append(det if isinstance(det, str) else measure(name, det, texts, expected))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEVSET, help="labelled dev set")
    ap.add_argument("--policy", default="pack:default", help="replylint's policy (default: %(default)s)")
    args = ap.parse_args(argv)
    records = load_records(args.data)
    profanity_tools = [("replylint", replylint_detector(args.policy, "profanity")),
                       ("better-profanity", better_profanity_detector()),
                       ("alt-profanity-check", alt_profanity_check_detector())]

    if DATA.is_dir():
        pos = in_sentences(surge_obfuscations(), PROFANE_TEMPLATES)
        neg = in_sentences(scunthorpe_words(), CLEAN_TEMPLATES)
        table("Profanity: Surge obfuscations vs Scunthorpe words, in sentences",
              run_all(profanity_tools, pos + neg, [True] * len(pos) + [False] * len(neg)),
              len(pos), len(neg))
    else:
        print(f"skip: {DATA} not found; public-list comparison not run")

    labelled = [r for r in records if "profanity" in r.labels]
    table(f"Profanity: {args.data.name}", run_all(profanity_tools, [r.text for r in labelled],
                                        [r.labels["profanity"] for r in labelled]),
          sum(r.labels["profanity"] for r in labelled),
          sum(not r.labels["profanity"] for r in labelled))

    raw = [(r.text, r.labels["personal-data"], r) for r in records if "personal-data" in r.labels]
    pii = [(t, e) for t, e, r in raw if not e or set(_kinds(args.data, r.id)) & set(PII_KINDS)]
    pii_tools = [("replylint", replylint_detector(args.policy, "personal-data", PII_KINDS)),
                 ("presidio (patterns)", presidio_detector())]
    table(f"Personal data: emails, phones and cards in {args.data.name}",
          run_all(pii_tools, [t for t, _ in pii], [e for _, e in pii]),
          sum(e for _, e in pii), sum(not e for _, e in pii))
    return 0


_KINDS: dict[str, list[str]] = {}


def _kinds(path: Path, record_id: str) -> list[str]:
    """The `pii_kinds` of a dev-set record (which kinds of personal data it holds)."""
    if not _KINDS:
        import json
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    _KINDS[d["id"]] = d.get("pii_kinds", [])
    return _KINDS.get(record_id, [])


if __name__ == "__main__":
    sys.exit(main())
