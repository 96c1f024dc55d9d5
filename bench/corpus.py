"""The texts the benchmarks run on: real brand replies when the shared data is there.

`<repo>/../shared/data/brand-replies/brand_replies.jsonl` holds 51k public brand replies (it is
not part of the repository: its licence is non-commercial). Without it the benchmarks fall back
to a generated corpus of reply-like texts, and say so in their output.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "brand-replies" / "brand_replies.jsonl"


def load_records(limit: int, seed: int = 7) -> tuple[list[dict[str, object]], str]:
    """Up to `limit` records (`id`, `text`, `brand`, `created_at` when known) and their origin."""
    records: list[dict[str, object]] = []
    if CORPUS.is_file():
        with CORPUS.open(encoding="utf-8") as f:
            for line in f:
                data = json.loads(line)
                if isinstance(data.get("text"), str) and data["text"].strip():
                    records.append({k: data.get(k) for k in ("id", "text", "brand", "created_at")})
        random.Random(seed).shuffle(records)
        records = records[:limit]
        return records, f"{len(records):,} real brand replies from {CORPUS.name}"
    texts = generated(limit, seed)
    return (
        [
            {"id": f"gen:{i}", "text": t, "brand": None, "created_at": None}
            for i, t in enumerate(texts)
        ],
        f"{len(texts):,} generated replies ({CORPUS} not found)",
    )


def load_texts(limit: int, seed: int = 7) -> tuple[list[str], str]:
    records, origin = load_records(limit, seed)
    return [str(r["text"]) for r in records], origin


def generated(n: int, seed: int = 7) -> list[str]:
    """Tweet-length replies with the mix of problems a real archive has (mostly clean)."""
    rng = random.Random(seed)
    opening = ["@115712 Hi Dana,", "@SamR Hey there!", "Hello Sam,", "Thanks for reaching out!", ""]
    middle = [
        "so sorry about the wait, we've re-sent your code.",
        "please DM us your order number and we'll take a look.",
        "the outage is fixed now, a restart of the app should do it.",
        "could you try clearing the cache under Settings > Storage?",
        "we've passed your feedback on to the team.",
        "we apologize for any inconvenience caused.",
        "you should buy more $TSLA before earnings!",
        "your replacement will definitely arrive tomorrow.",
        "we've updated the email to dana.smith@example.com for you.",
        "that update is a damn mess, sorry!",
    ]
    weights = [20, 20, 15, 15, 15, 4, 1, 3, 1, 1]
    closing = ["^MS", "^JK", "- Maya", "", "Have a great day!", "https://t.co/abc123"]
    return [
        " ".join(
            p
            for p in (rng.choice(opening), rng.choices(middle, weights)[0], rng.choice(closing))
            if p
        )
        for _ in range(n)
    ]


def exactly(texts: list[str], length: int) -> list[str]:
    """Replies of exactly `length` characters, made by joining consecutive replies."""
    out: list[str] = []
    buf = ""
    for text in texts * 4:
        buf = f"{buf} {text}".strip()
        if len(buf) >= length:
            out.append(buf[:length])
            buf = ""
    return out
