"""What 10, 100, 1,000 and 10,000 phrases in one `phrase` rule cost per reply.

A phrase rule compiles its phrases into one word trie and walks it once per reply, so the cost
of a reply should barely move with the number of phrases. The phrases are word bigrams and
trigrams drawn from the corpus itself (so some of them do match), the rule is the only rule of
the policy, and each size is timed over the same replies.

    python bench/bench_phrase_scaling.py
    python bench/bench_phrase_scaling.py --replies 5000 --sizes 10,100,1000,10000,50000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import load_texts  # noqa: E402

from replylint import Linter  # noqa: E402
from replylint.policy import load_policy_text  # noqa: E402
from replylint.words import words  # noqa: E402


def phrases_from(texts: list[str], count: int, seed: int, reverse: bool = False) -> list[str]:
    """`count` distinct 2- and 3-word phrases taken from the texts (words reversed: phrases
    made of real words that seldom occur, to time the matching rather than the reporting)."""
    grams: set[str] = set()
    for text in texts:
        ws = [w for w in words(text.casefold()) if w.isalpha()]
        for n in (2, 3):
            for i in range(len(ws) - n + 1):
                gram = ws[i : i + n]
                grams.add(" ".join(reversed(gram) if reverse else gram))
    pool = sorted(grams)
    random.Random(seed).shuffle(pool)
    if len(pool) < count:
        pool += [f"zq{i} phrase{i}" for i in range(count - len(pool))]
    return pool[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=5_000)
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts, origin = load_texts(args.replies)
    vocabulary, _ = load_texts(20_000, seed=11)
    sizes = [int(s) for s in args.sizes.split(",")]
    pools = {
        "corpus n-grams": phrases_from(vocabulary, max(sizes), seed=3),
        "reversed n-grams": phrases_from(vocabulary, max(sizes), seed=3, reverse=True),
    }
    print(
        f"# phrase rule scaling: {origin}; phrases are corpus bigrams/trigrams; "
        f"best of {args.rounds} rounds"
    )
    print()
    print(
        "| phrases | kind | inflect | compile (s) | replies/s | µs/reply | vs smallest | "
        "hits in 500 replies |"
    )
    print("|---:|---|---|---:|---:|---:|---:|---:|")
    for (kind, pool), inflect in [(p, i) for p in pools.items() for i in (False, True)]:
        base: float | None = None
        for size in sizes:
            phrases = pool[:size]
            yaml = (
                "rules:\n  - id: phrases\n    type: phrase\n"
                f"    inflect: {str(inflect).lower()}\n    phrases: " + json.dumps(phrases) + "\n"
            )
            start = time.perf_counter()
            linter = Linter(load_policy_text(yaml))
            compile_s = time.perf_counter() - start
            hits = sum(len(linter.check(t).violations) for t in texts[:500])
            best = float("inf")
            for _ in range(args.rounds):
                start = time.perf_counter()
                for text in texts:
                    linter.check(text)
                best = min(best, time.perf_counter() - start)
            per = best / len(texts) * 1e6
            base = base or per
            print(
                f"| {size:,} | {kind} | {'yes' if inflect else 'no'} | {compile_s:.3f} | "
                f"{len(texts) / best:,.0f} | {per:.1f} | {per / base:.2f}x | {hits:,} |"
            )


if __name__ == "__main__":
    main()
