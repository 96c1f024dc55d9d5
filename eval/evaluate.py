"""Precision, recall and F1 of each rule on the labelled development set (eval/devset.jsonl).

A record counts for rule R only when it carries a label for R; a violation counts for R when its
rule id is R or starts with "R." (so `trading-advice` covers `trading-advice.price-target`).

    python eval/evaluate.py                              # pack:default
    python eval/evaluate.py --pack default --pack finance --pack social
    python eval/evaluate.py --policy my-policy.yaml --errors --json figures.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from replylint import Linter, Violation, load_policy
from replylint.policy import Policy, id_matches

HERE = Path(__file__).resolve().parent
DEVSET = HERE / "devset.jsonl"
DEFAULT_RULES = ("profanity", "trading-advice", "signature", "scripted-phrasing", "personal-data",
                 "promise")
TARGET_PRECISION = 0.95
TARGET_RECALL = 0.90


@dataclass(frozen=True)
class Record:
    id: str
    sector: str
    text: str
    context: Mapping[str, Any]
    labels: Mapping[str, bool]


@dataclass(frozen=True)
class Scores:
    """A confusion matrix and the figures derived from it (None when undefined)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, expected: bool, predicted: bool) -> Scores:
        return Scores(self.tp + (expected and predicted), self.fp + (predicted and not expected),
                      self.fn + (expected and not predicted),
                      self.tn + (not expected and not predicted))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


def score(pairs: Iterable[tuple[bool, bool]]) -> Scores:
    """Confusion matrix of (expected, predicted) pairs."""
    out = Scores()
    for expected, predicted in pairs:
        out = out.add(expected, predicted)
    return out


def load_records(path: Path) -> list[Record]:
    records = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                records.append(Record(d["id"], d["sector"], d["text"], d.get("context") or {},
                                      d["labels"]))
    return records


def fires(violations: Iterable[Violation], rule: str) -> list[Violation]:
    return [v for v in violations if id_matches(v.rule, rule)]


def build_policy(policy: str | None, packs: list[str]) -> Policy:
    if packs:
        refs = [p if p.startswith("pack:") else f"pack:{p}" for p in packs]
        return load_policy({"policy": {"name": "+".join(r[5:] for r in refs), "extends": refs}})
    return load_policy(policy or "pack:default")


def evaluated_rules(policy: Policy, records: list[Record], only: list[str]) -> list[str]:
    """Label names that some rule of the policy answers to, in first-seen order."""
    names = dict.fromkeys(k for r in records for k in r.labels)
    out = [n for n in names if any(id_matches(rule.id, n) for rule in policy.rules)]
    return [n for n in out if not only or n in only]


@dataclass(frozen=True)
class Outcome:
    record: Record
    violations: tuple[Violation, ...]


def run(linter: Linter, records: list[Record]) -> Iterator[Outcome]:
    for rec in records:
        yield Outcome(rec, linter.check(rec.text, dict(rec.context)).violations)


def table(results: Mapping[str, Scores]) -> str:
    def fmt(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    width = max([len("rule")] + [len(r) for r in results])
    header = (f"{'rule':<{width}}  {'n':>4} {'TP':>4} {'FP':>4} {'FN':>4} {'TN':>4}  "
              f"{'prec':>5}  {'recall':>6}  {'F1':>5}  target")
    lines = [header]
    for rule, s in results.items():
        target = ""
        if rule in DEFAULT_RULES:
            ok = ((s.precision or 0) >= TARGET_PRECISION and (s.recall or 0) >= TARGET_RECALL)
            target = "ok" if ok else "MISSED"
        n = s.tp + s.fp + s.fn + s.tn
        lines.append(f"{rule:<{width}}  {n:>4} {s.tp:>4} {s.fp:>4} {s.fn:>4} {s.tn:>4}  "
                     f"{fmt(s.precision):>5}  {fmt(s.recall):>6}  {fmt(s.f1):>5}  {target}")
    return "\n".join(lines)


def describe_error(kind: str, rule: str, outcome: Outcome) -> str:
    rec = outcome.record
    ctx = {k: v for k, v in rec.context.items() if k != "channel" or v != "twitter"}
    head = f"{kind} {rule} {rec.id} [{rec.sector}]" + (f" {json.dumps(ctx)}" if ctx else "")
    lines = [head, f"    text: {rec.text!r}"]
    for v in fires(outcome.violations, rule):
        lines.append(f"    {v.rule} [{v.start}:{v.end}] {rec.text[v.start:v.end]!r}")
    if kind == "FN":
        lines.append("    nothing matched")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policy", help="policy file or pack:NAME (default: pack:default)")
    ap.add_argument("--pack", action="append", default=[],
                    help="combine shipped packs (repeat): --pack default --pack finance")
    ap.add_argument("--data", type=Path, default=DEVSET, help="labelled JSONL (default: %(default)s)")
    ap.add_argument("--rule", action="append", default=[], help="only these label names")
    ap.add_argument("--sector", action="append", default=[], help="only records of these sectors")
    ap.add_argument("--id-prefix", default="", help="only records whose id starts with this")
    ap.add_argument("--errors", action="store_true", help="list every FP and FN with the span")
    ap.add_argument("--json", type=Path, help="write the figures to this JSON file")
    ap.add_argument("--check-targets", action="store_true",
                    help="exit 1 when a default rule misses precision >= 0.95 or recall >= 0.90")
    args = ap.parse_args(argv)
    if args.policy and args.pack:
        ap.error("use --policy or --pack, not both")

    policy = build_policy(args.policy, args.pack)
    records = load_records(args.data)
    if args.sector:
        records = [r for r in records if r.sector in args.sector]
    if args.id_prefix:
        records = [r for r in records if r.id.startswith(args.id_prefix)]
    rules = evaluated_rules(policy, records, args.rule)
    linter = Linter(policy, redact=False)
    started = time.perf_counter()
    outcomes = list(run(linter, records))
    elapsed = time.perf_counter() - started

    results: dict[str, Scores] = {}
    errors: list[str] = []
    for rule in rules:
        pairs = []
        for o in outcomes:
            expected = o.record.labels.get(rule)
            if expected is None:
                continue
            predicted = bool(fires(o.violations, rule))
            pairs.append((expected, predicted))
            if expected != predicted:
                errors.append(describe_error("FP" if predicted else "FN", rule, o))
        results[rule] = score(pairs)

    print(f"policy {policy.name} ({policy.hash[:12]}), {len(records)} records from "
          f"{args.data.name}, {len(records) / elapsed:,.0f} replies/s")
    print(table(results))
    if args.errors:
        print()
        print("\n".join(errors) if errors else "no errors")
    if args.json:
        args.json.write_text(json.dumps({
            "date": date.today().isoformat(), "policy": policy.name, "policy_hash": policy.hash,
            "data": args.data.name, "records": len(records),
            "rules": {r: s.to_dict() for r, s in results.items()},
        }, indent=2) + "\n", encoding="utf-8")
    if args.check_targets:
        missed = [r for r, s in results.items() if r in DEFAULT_RULES and not (
            (s.precision or 0) >= TARGET_PRECISION and (s.recall or 0) >= TARGET_RECALL)]
        return 1 if missed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
