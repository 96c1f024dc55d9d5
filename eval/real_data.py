"""How the shipped rules behave on real data nobody on this project wrote (../shared/data).

    python eval/real_data.py                         # every measurement
    python eval/real_data.py --only brand --show personal-data --limit 30
    python eval/real_data.py --only profanity --show profanity   # list the misses/false alarms

1. brand replies: share of the 51k real brand replies each rule flags (false-alarm rate: brands
   essentially never swear, advise trades or post a customer's data; targets < 0.02% profanity and
   trading-advice, < 0.1% personal-data).
2. profanity: recall on Surge AI's Strong/Severe spellings written with non-letters (other than
   spaces), each inside a sentence; false alarms on the clean Scunthorpe candidates
   (`is_compound_of_term` false), each inside a sentence.
3. trading-advice on investment-advice prompts (advice-seeking vs not) and regulator phrases, and
   its flag rate on StockNet $CASHTAG tweets. These are not replies: reported, not targeted.

Skips cleanly when ../shared/data is absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from replylint import Linter, Violation, load_policy
from replylint.policy import Policy, id_matches

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SECTIONS = ("brand", "profanity", "advice", "stocknet")
TARGETS = {"profanity": 0.0002, "trading-advice": 0.0002, "personal-data": 0.001}

# Sentences a customer-service reply might carry a swear word (or a Scunthorpe word) in.
PROFANE_TEMPLATES = (
    "Honestly that's {w}, sorry about the wait.",
    "Tell the {w} at the desk we said hi.",
    "Ugh, {w}! The app crashed again.",
    "You {w}, this is the third time.",
    "What a {w} thing to say to a customer.",
    "The driver called me a {w} on the phone.",
)
CLEAN_TEMPLATES = (
    "Thanks for the {w} update, we'll pass it on.",
    "Your {w} order is on its way.",
    "We looked into the {w} issue for you.",
)


@dataclass
class Tally:
    """Flag counts per rule over a stream of texts, keeping the flagged items for `--show`."""

    rules: tuple[str, ...]
    total: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    shown: dict[str, list[tuple[str, str, list[Violation]]]] = field(default_factory=dict)

    def add(self, item_id: str, text: str, violations: Iterable[Violation], keep: int) -> None:
        self.total += 1
        vs = list(violations)
        for rule in self.rules:
            hits = [v for v in vs if id_matches(v.rule, rule)]
            if hits:
                self.flagged[rule] = self.flagged.get(rule, 0) + 1
                items = self.shown.setdefault(rule, [])
                if len(items) < keep:
                    items.append((item_id, text, hits))

    def rate(self, rule: str) -> float:
        return self.flagged.get(rule, 0) / self.total if self.total else 0.0


def top_level_rules(policy: Policy) -> tuple[str, ...]:
    """Rule ids without sub-ids (`trading-advice.price-target` counts for `trading-advice`)."""
    ids = [r.id for r in policy.rules]
    return tuple(i for i in dict.fromkeys(ids)
                 if not any(i != j and i.startswith(j + ".") for j in ids))


def jsonl(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def show(tally: Tally, rule: str, title: str) -> None:
    items = [(k, t, v) for r, xs in tally.shown.items() if id_matches(r, rule) for k, t, v in xs]
    print(f"\n--- {title}: {rule} ({tally.flagged.get(rule, 0)} flagged, showing {len(items)})")
    for item_id, text, hits in items:
        spans = "; ".join(f"{v.rule} {text[v.start:v.end]!r}" for v in hits)
        print(f"{item_id}: {text!r}\n    -> {spans}")


def brand(linter: Linter, rules: tuple[str, ...], args: argparse.Namespace) -> None:
    path = DATA / "brand-replies" / "brand_replies.jsonl"
    tally = Tally(rules)
    context = {"channel": args.channel} if args.channel else {}
    started = time.perf_counter()
    for i, rec in enumerate(jsonl(path)):
        if args.sample and i >= args.sample:
            break
        text = str(rec["text"])
        tally.add(str(rec["id"]), text, linter.check(text, context).violations, args.limit)
    elapsed = time.perf_counter() - started
    print(f"\n## Brand replies: {tally.total:,} real replies ({tally.total / elapsed:,.0f}/s), "
          f"context {context or 'none'} (no agent: `signature` fires on every unsigned reply)")
    print(f"{'rule':<22} {'flagged':>8} {'rate':>9}  target")
    for rule in rules:
        target = TARGETS.get(rule)
        verdict = "" if target is None else (
            f"< {target:.2%} " + ("ok" if tally.rate(rule) < target else "MISSED"))
        print(f"{rule:<22} {tally.flagged.get(rule, 0):>8} {tally.rate(rule):>9.3%}  {verdict}")
    for rule in args.show:
        show(tally, rule, "brand replies flagged by")


def surge_obfuscations() -> list[str]:
    """Strong/Severe Surge rows written with characters other than letters and spaces."""
    with (DATA / "profanity" / "surge_profanity_en.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows if r["severity_description"] in ("Strong", "Severe")
            and any(not (c.isalpha() or c.isspace()) for c in r["text"])]


def scunthorpe_words() -> list[str]:
    with (DATA / "profanity" / "scunthorpe_candidates.csv").open(encoding="utf-8") as f:
        return [r["word"] for r in csv.DictReader(f) if r["is_compound_of_term"] == "false"]


def in_sentences(words: list[str], templates: tuple[str, ...]) -> list[str]:
    return [templates[i % len(templates)].format(w=w) for i, w in enumerate(words)]


def profanity(linter: Linter, args: argparse.Namespace) -> None:
    obf = surge_obfuscations()
    clean = scunthorpe_words()
    caught = [linter.check(s).violations for s in in_sentences(obf, PROFANE_TEMPLATES)]
    alarms = [linter.check(s).violations for s in in_sentences(clean, CLEAN_TEMPLATES)]
    hit = [any(id_matches(v.rule, "profanity") for v in vs) for vs in caught]
    fa = [any(id_matches(v.rule, "profanity") for v in vs) for vs in alarms]
    print("\n## Profanity on public lists")
    print(f"recall on {len(obf)} obfuscated Strong/Severe Surge spellings in sentences: "
          f"{sum(hit) / len(hit):.1%} (target >= 95%)")
    print(f"false alarms on {len(clean)} clean Scunthorpe words in sentences: "
          f"{sum(fa)} = {sum(fa) / len(fa):.2%} (target <= 0.2%)")
    if "profanity" in args.show:
        missed = [w for w, h in zip(obf, hit) if not h]
        print(f"\n--- missed obfuscations ({len(missed)}): " + ", ".join(missed))
        print(f"--- flagged Scunthorpe words ({sum(fa)}):")
        for w, vs, f in zip(clean, alarms, fa):
            if f:
                s = CLEAN_TEMPLATES[clean.index(w) % len(CLEAN_TEMPLATES)].format(w=w)
                print(f"    {w}: " + "; ".join(repr(s[v.start:v.end]) for v in vs
                                               if id_matches(v.rule, "profanity")))


def advice(linter: Linter, args: argparse.Namespace) -> None:
    folder = DATA / "investment-advice"
    with (folder / "investment_advice_prompts.csv").open(encoding="utf-8") as f:
        prompts = list(csv.DictReader(f))
    print("\n## trading-advice on investment-advice/ (prompts, not replies: reported, not targeted)")
    for label in ("advice_seeking", "not_advice"):
        rows = [r for r in prompts if r["label"] == label]
        tally = Tally(("trading-advice",))
        for r in rows:
            tally.add(r["id"], r["text"], linter.check(r["text"]).violations, args.limit)
        print(f"{label:<15} {len(rows):>4} prompts, flagged {tally.flagged.get('trading-advice', 0):>3}"
              f" = {tally.rate('trading-advice'):.1%}")
        if "trading-advice" in args.show:
            show(tally, "trading-advice", f"{label} prompts flagged by")
    with (folder / "regulator_examples.csv").open(encoding="utf-8") as f:
        phrases = list(csv.DictReader(f))
    tally = Tally(("trading-advice",))
    for r in phrases:
        tally.add(r["id"], r["text"], linter.check(r["text"]).violations, args.limit)
    print(f"{'regulator':<15} {len(phrases):>4} phrases, flagged "
          f"{tally.flagged.get('trading-advice', 0):>3} = {tally.rate('trading-advice'):.1%}")
    if "trading-advice" in args.show:
        show(tally, "trading-advice", "regulator phrases flagged by")


def stocknet(linter: Linter, args: argparse.Namespace) -> None:
    tally = Tally(("trading-advice",))
    for i, rec in enumerate(jsonl(DATA / "stock-tweets-stocknet" / "stock_tweets_sample.jsonl")):
        if args.sample and i >= args.sample:
            break
        text = str(rec["text"])
        tally.add(str(rec["id"]), text, linter.check(text).violations, args.limit)
    print(f"\n## trading-advice on {tally.total:,} StockNet $CASHTAG tweets (investor chatter, "
          f"not replies): flagged {tally.flagged.get('trading-advice', 0)} = "
          f"{tally.rate('trading-advice'):.2%}")
    if "trading-advice" in args.show:
        show(tally, "trading-advice", "StockNet tweets flagged by")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policy", default="pack:default", help="policy file or pack:NAME")
    ap.add_argument("--pack", action="append", default=[],
                    help="combine shipped packs instead (repeat): --pack default --pack social")
    ap.add_argument("--channel", help="context channel for the brand replies, e.g. twitter")
    ap.add_argument("--only", action="append", choices=SECTIONS, default=[],
                    help="run only these measurements (repeat)")
    ap.add_argument("--show", action="append", default=[], metavar="RULE",
                    help="print what RULE flagged (profanity: the misses and false alarms)")
    ap.add_argument("--limit", type=int, default=40, help="items to print per --show (default 40)")
    ap.add_argument("--sample", type=int, default=0, help="read only the first N rows of big files")
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"skip: {DATA} not found (the shared evaluation data lives next to the repository)")
        return 0
    if args.pack:
        refs = [p if p.startswith("pack:") else f"pack:{p}" for p in args.pack]
        policy = load_policy({"policy": {"name": "+".join(r[5:] for r in refs), "extends": refs}})
    else:
        policy = load_policy(args.policy)
    linter = Linter(policy, redact=False)
    print(f"policy {policy.name} ({policy.hash[:12]}), data {DATA}")
    sections = args.only or list(SECTIONS)
    if "brand" in sections:
        brand(linter, top_level_rules(policy), args)
    if "profanity" in sections:
        profanity(linter, args)
    if "advice" in sections:
        advice(linter, args)
    if "stocknet" in sections:
        stocknet(linter, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
