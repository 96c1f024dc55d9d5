"""Regenerate src/replylint/lexicons/ from the public lists in ../shared/data/profanity.

Sources (read their README there): LDNOOBW `en` (CC BY 4.0), Surge AI "The Obscenity List" (MIT)
and dsojevic's profanity list (MIT). Every lexicon term comes from one of these lists; what this
script adds is curation, written out below so a reviewer can see and change it:

- terms that are innocent in customer service (brand, food, product, place and personal names,
  clinical words, identity words, everyday words with a rude second sense) are left out, with
  the reason, in profanity_excluded_en.tsv;
- a tier per term: mild or strong (slurs are always strong), from dsojevic's severity (1 = mild),
  else Surge's (Mild = mild), else strong, with a few documented overrides;
- a Surge canonical form that no list spells as an entry (`piss`, the canonical form of
  `pissoff` and `taking the piss`), as a word of its own;
- a few inflections of verb-like terms (fucked, shitty, crappy), and stems that mark a token
  containing them as profane (bullshit, motherfucker), each stem being a term of the lists;
- Scunthorpe exceptions: dsojevic's curated exceptions plus the phrases below.

Surge rows spelled with digits or symbols (`5h1t`, `@sshole`) are NOT put in the lexicon: they are
what the runtime folding must catch, and the evaluation set for it.

Usage: python scripts/build_profanity_lexicon.py [SOURCE_DIR [OUT_DIR]]
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "profanity"
OUT = ROOT / "src" / "replylint" / "lexicons"

MILD, STRONG = "mild", "strong"
SURGE_RANK = {"Mild": 1, "Strong": 2, "Severe": 3}
SLUR_CATEGORIES = {"racial / ethnic slurs", "mental disability", "physical disability"}
SLUR_TAGS = {"racial", "lgbtq"}

IDENTITY = "identity word (reclaimed or self-description), never a profanity on its own"

# Left out, by reason. A reply that uses these words is almost always innocent. Single words
# (except identity words) stay in the lexicon as `disguised`: flagged only when written with
# leetspeak or a mask (`s3x`, `g@ylord`), because nobody disguises the innocent reading.
EXCLUDE: dict[str, list[str]] = {
    "everyday word or phrase with an innocent main sense": [
        "escort", "suck", "sucks", "tit", "xx", "xxx", "twinkie", "butt", "snatch", "spunk",
        "scat", "skeet", "smut", "kinky", "grope", "humping", "fingering", "fingered",
        "domination", "bondage", "swinger", "voyeur", "voyuer", "undressing", "threesome",
        "scissoring", "snowballing", "shrimping", "pegging", "bareback", "collaring", "collared",
        "poof", "pansy", "sissy", "cissy", "cissie", "tramp", "tart", "crow", "crows", "finger",
        "sack", "sheet", "forked", "swine", "spanking", "dolt", "diddle", "muff", "knob", "nobs",
        "pecker", "peen", "ramrod", "scut", "puss", "pusses", "coot", "hoar", "hoe", "hoes",
        "slag", "slit", "nip", "bender", "flamer", "flamers", "greaser", "hustler", "booty",
        "cooties", "dipstick", "crotch", "mongrel", "spook", "spooks", "jigger", "knickers",
        "nicker", "cum", "molester", "bastinado", "strappado", "tied up", "big black", "girl on",
        "girl on top", "hot chick", "huge fat", "taste my", "tongue in a", "tight white",
        "blonde action", "blonde on blonde action", "brunette action", "hard core", "hardcore",
        "strip club", "leather restraint", "leather straight jacket", "sultry women",
        "tainted love", "pleasure chest", "jelly donut", "spread legs", "make me come",
        "strap on", "tea bagging", "tea bagged", "how to kill", "how to murder",
        "alaskan pipeline", "deep throat", "ball kicking", "switch hitter", "gym bunny",
        "hickory switch", "beat off",
        "loose woman", "menage a trois", "menages a trois", "missionary position",
        "cotton picker", "double pen", "s&m", "frolic me", "pony girl", "petrol sniffer",
        "bung hole", "bunghole", "sodding", "sod off", "sixty nine", "sixtynine", "bj", "mfs",
        "mfk",
        "impact play", "impactplay", "wax play", "waxplay", "gymbunny", "petrolsniffer",
        "hooker", "nonce", "jim crow", "peter puffer", "man meat", "man seed",
        "nut butter", "nuggets", "buttermilk", "cagone", "caca", "cack", "ball licking",
    ],
    "phrase with a common literal reading (food, objects, places, idioms)": [
        "cream pie", "china man", "china men", "eye tie", "buddha head", "rag head", "rag heads",
        "towel head", "zipper head", "wet back", "baby juice", "dump a load",
        "chocolate rosebud", "chocolate rosebuds", "crafty butcher", "mushroom tip",
        "mexican pancake", "milwaukee blizzard", "canadian porch swing", "alabama tuna melt",
        "packing fudge", "tossing salad", "violet wand", "axe wound", "beat the meat",
        "neo nazi", "barely legal", "crazy sob",
    ],
    "two words that also read innocently (`Dick, head to...`); the one-word form is kept": [
        "cock head", "dick head", "shit head", "fuck head", "knob head",
    ],
    "clinical, medical or educational term": [
        "anus", "rectum", "penis", "vagina", "vulva", "clitoris", "genitals", "semen", "sperm",
        "breasts", "nipple", "nipples", "pubes", "intercourse", "ejaculate", "ejaculation",
        "ejaculating", "ejaculated", "erotic", "erotism", "homoerotic", "sadism", "fecal",
        "masturbate", "masturbating", "masturbation", "masterbate", "masturb8", "masterb8",
        "nude", "nudity", "topless", "sex", "sexual", "sexually", "sexuality", "sexy", "sexo",
        "lovemaking", "anal", "incest", "paedophile", "pedophile", "paedophilia", "pedophilia",
        "sphincter", "eunuch", "transvestite", "neonazi",
    ],
    "brand, product, place, work or personal name": [
        "playboy", "babeland", "octopussy", "viagra", "cialis", "hooters", "santorum", "bbc",
        "bwc", "bbw", "nsfw", "nsfw images", "suicide girls", "girls gone wild", "lolita",
        "onlyfans", "only fans", "abbie", "bates", "peter", "gaylord", "gaylords", "focker",
        "fick", "phuc", "cumming", "mong", "sambo", "shylock", "hajji", "haji", "hadji",
        "finocchio", "ponyboy", "pony boy", "hermie", "wang", "dong", "weiner", "weenie",
        "yaoi", "shota", "tushy", "vibrator", "panties", "panty", "barenaked", "cornhole",
        "prince albert piercing", "vag", "christ", "jesus", "jesus christ", "brownie king",
        "brownie queen", "spicy gringo", "bater", "dix", "fuku", "go kun", "gokun",
    ],
    IDENTITY: [
        "queers", "gayest", "gayness", "twink", "enby", "cishet", "transbian", "bicon",
        "t girl", "tgirl",
    ],
}

# Tier changes against the rule "dsojevic 1 = mild, else Surge Mild = mild, else strong".
MILD_OVERRIDES = {
    # British/casual versions of mild words; dsojevic rates them 2 where `ass`/`damn` are 1.
    "arse", "arses", "god damn", "goddamn", "goddamned", "god damned", "goddammit",
    "god dammit", "goddamnit", "god damnit", "godamnit", "god damn it",
}
# Canonical forms whose whole family is strong although Surge rates some spellings Mild.
STRONG_FAMILIES = {"shit", "bitch", "cock", "dick", "pussy", "twat", "wank", "cunt", "fuck"}

# Surge canonical forms that no list spells as an entry of its own (Surge lists `pissoff`,
# `piss face`, `taking the piss` under the canonical form `piss`), added as words of that tier.
CANONICAL_WORDS: dict[str, str] = {"piss": MILD}

# Inflections generated for verb-like terms (the lists already spell most of them out).
INFLECT: dict[str, tuple[str, ...]] = {
    "fuck": ("s", "ed", "er", "ers", "ing", "in", "ings", "en", "face", "head", "wit"),
    "shit": ("s", "ted", "ter", "ters", "ting", "ty", "tier", "tiest", "e", "es"),
    "wank": ("s", "ed", "er", "ers", "ing"),
    "bitch": ("es", "ed", "ing", "in", "y", "ier", "iest"),
    "cunt": ("s", "y"),
    "twat": ("s",),
    "crap": ("py", "pier", "piest", "ped", "ping"),
    "damn": ("s", "ed", "it"),
    "bugger": ("s", "ed", "ing"),
    "arse": ("s", "d"),
    "bastard": ("s",),
    "asshole": ("s",),
    "arsehole": ("s",),
    "dickhead": ("s",),
    "motherfucker": ("s",),
    "whore": ("s",),
    "slut": ("s", "ty"),
    "dildo": ("s",),
    "retard": ("s", "ed"),
    "piss": ("es", "ed", "er", "y", "head", "heads", "take"),
}

# Stems: a token that starts with (prefix), ends with (suffix) or contains (infix) one of these
# list terms is profane: bullshitting, motherfucking, fuckwittery. Safe words below guard them.
STEMS: dict[str, tuple[str, ...]] = {
    "infix": ("fuck", "fvck", "fcuk", "phuck", "cocksuck"),
    "prefix": ("nigger", "nigga", "shit", "bullshit", "horseshit", "cunt", "bitch", "whore",
               "slut", "twat", "wank", "jizz", "dildo", "faggot", "asshole", "dickhead",
               "motherf", "porn"),
    "suffix": ("shit", "cunt", "bitch", "whore", "asshole"),
}

# Words and phrases that are never profane although they contain a listed term or stem
# (added to dsojevic's curated exceptions).
SAFE: list[str] = [
    "scunthorpe", "shiitake", "shitake", "shitzu", "shitsu", "mishit", "mishits", "mishitting",
    "wankel", "twattle", "niggle", "niggles", "niggled", "niggling", "niggly", "niggard",
    "niggardly", "cockburn", "pornic", "dickens", "hell's kitchen", "hells kitchen",
    "hell's angels", "hells angels", "maine coon", "maine coons", "coon hound", "coonhound",
    "homo sapiens", "homo erectus", "homo habilis", "chink in the armor", "chink in the armour",
    "chink in his armor", "chink in his armour", "chink in her armor", "chink in her armour",
    "chink in its armor", "chink in its armour", "chink in their armor", "chink in their armour",
    "chink in our armor", "chink in our armour", "chink of light", "spick and span",
    "spic and span", "honky tonk", "honkytonk", "bloody mary", "bloody marys", "moby dick",
    "spotted dick", "dick's sporting goods", "dicks sporting goods", "dick van dyke",
    "van dyke", "philip k dick", "cock a doodle doo", "pussy willow", "pussy willows",
    "magna cum laude", "summa cum laude", "cum laude", "hell creek", "beaver creek",
    "dyke road", "come hell",
    # plumbing and farm words: a cock is also a tap or valve, and a rooster
    "cock tap", "cock taps", "stop cock", "stop cocks", "ball cock", "ball cocks", "bib cock",
    "drain cock", "pet cock", "gas cock", "fuel cock", "cock valve", "cock valves",
    "weather cock", "weather cocks", "cock and hen", "cock pheasant", "harshit", "darshit", "akshit", "bastardize", "bastardise",
    "bastardized", "bastardised", "bastardization",
]


@dataclass
class Term:
    form: str
    sources: set[str] = field(default_factory=set)
    dsojevic: int | None = None
    tags: set[str] = field(default_factory=set)
    surge: int | None = None
    categories: set[str] = field(default_factory=set)
    canonical: set[str] = field(default_factory=set)


def words_of(text: str) -> str:
    """Lowercase words split by spaces: `Ape-Shit` -> `ape shit`, `dog's` -> `dog s`."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def spellings(raw: str) -> list[str]:
    """The lexicon forms of one list entry: hyphenated entries give the joined word too."""
    raw = raw.strip().lower()
    if raw == "🖕":
        return [raw]
    if not re.fullmatch(r"[a-z0-9 '\-&.]+", raw):
        return []
    out = [words_of(raw)]
    if "-" in raw:
        out.append(words_of(raw.replace("-", "")))
    return [o for o in dict.fromkeys(out) if o]


def load(source: Path) -> tuple[dict[str, Term], dict[str, int], list[str]]:
    terms: dict[str, Term] = {}
    stats: dict[str, int] = defaultdict(int)
    dsojevic_exceptions: list[str] = []

    def term(form: str) -> Term:
        return terms.setdefault(form, Term(form))

    for line in (source / "ldnoobw_en.txt").read_text(encoding="utf-8").splitlines():
        for form in spellings(line):
            term(form).sources.add("ldnoobw")
        stats["ldnoobw"] += 1

    with (source / "surge_profanity_en.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            stats["surge"] += 1
            text = row["text"]
            plain = re.sub(r"'s\b", "", text)
            if (not re.fullmatch(r"[A-Za-z '\-]+", text) or "'" in plain
                    or any(len(c.strip()) < 2 for c in plain.split("-"))):
                stats["surge obfuscated rows left out (evaluation data)"] += 1
                continue
            for form in spellings(text):
                t = term(form)
                t.sources.add("surge")
                rank = SURGE_RANK[row["severity_description"]]
                t.surge = max(t.surge or 0, rank)
                t.categories |= {row[f"category_{i}"] for i in (1, 2, 3)} - {""}
                t.canonical |= {words_of(row[f"canonical_form_{i}"]) for i in (1, 2, 3)} - {""}

    for entry in json.loads((source / "dsojevic_en.json").read_text(encoding="utf-8")):
        stats["dsojevic"] += 1
        alternatives = [a.replace("*", "") for a in entry["match"].split("|")]
        for alt in alternatives:
            for form in spellings(alt):
                t = term(form)
                t.sources.add("dsojevic")
                t.dsojevic = max(t.dsojevic or 0, entry["severity"])
                t.tags |= set(entry["tags"])
        word = alternatives[0]
        for pattern in entry.get("exceptions", []):
            dsojevic_exceptions.append(words_of(pattern.replace("*", word)))
    return terms, stats, dsojevic_exceptions


def tier_of(t: Term, terms: dict[str, Term]) -> str:
    """A term's own tier, raised to its Surge canonical form's (`skanks` follows `skank`)."""
    own = _own_tier(t, terms)
    if own == STRONG or t.form in MILD_OVERRIDES:
        return own
    for canon in sorted(t.canonical - {t.form}):
        ref = terms.get(canon)
        if ref is not None and _own_tier(ref, terms) == STRONG:
            return STRONG
    return own


def _own_tier(t: Term, terms: dict[str, Term]) -> str:
    if t.form in MILD_OVERRIDES:
        return MILD
    if t.categories & SLUR_CATEGORIES or t.tags & SLUR_TAGS:
        return STRONG
    if t.canonical & STRONG_FAMILIES or t.form in STRONG_FAMILIES:
        return STRONG
    if t.dsojevic is not None:
        return MILD if t.dsojevic == 1 else STRONG
    for canon in sorted(t.canonical):
        ref = terms.get(canon)
        if ref is not None and ref.dsojevic is not None and canon != t.form:
            return MILD if ref.dsojevic == 1 and t.surge in (None, 1) else STRONG
    if t.surge is not None:
        return MILD if t.surge == 1 else STRONG
    return STRONG


def build(source: Path, out: Path = OUT) -> dict[str, int]:
    terms, stats, dsojevic_exceptions = load(source)
    excluded = {words_of(w): reason for reason, ws in EXCLUDE.items() for w in ws}
    rows: dict[tuple[str, str], tuple[str, str, str]] = {}
    left_out: list[tuple[str, str]] = []
    for form, t in sorted(terms.items()):
        if form in excluded:
            left_out.append((form, excluded[form]))
            continue
        kind = "phrase" if " " in form else "word"
        rows[(form, kind)] = (tier_of(t, terms), form, "+".join(sorted(t.sources)))
    unknown = [form for form in excluded if form not in terms]
    if unknown:
        raise SystemExit(f"EXCLUDE names terms no list contains: {unknown}")
    for form, tier in CANONICAL_WORDS.items():
        t = terms.get(form)
        if (form, "word") in rows or form in excluded or (t is not None and t.sources):
            raise SystemExit(f"CANONICAL_WORDS names {form!r}, which is a list entry already")
        if not any(form in t.canonical for t in terms.values()):
            raise SystemExit(f"CANONICAL_WORDS names {form!r}, which is no Surge canonical form")
        rows[(form, "word")] = (tier, form, "surge-canonical")
    tiers = {form: tier for (form, _), (tier, _, _) in rows.items()}
    for base, suffixes in INFLECT.items():
        if base not in tiers:
            raise SystemExit(f"INFLECT names {base!r}, which is not in the lexicon")
        for suffix in suffixes:
            form = base + suffix
            if (form, "word") not in rows and form not in excluded:
                rows[(form, "word")] = (tiers[base], base, "derived")
                stats["inflections generated"] += 1
    for form, reason in excluded.items():
        if " " not in form and reason != IDENTITY:
            t = terms[form]
            rows[(form, "disguised")] = (tier_of(t, terms), form, "+".join(sorted(t.sources)))
    for (form, kind), (tier, _, _) in list(rows.items()):
        singular = form[:-1]
        if (kind == "word" and form.endswith("s") and not form.endswith("ss") and len(form) >= 5
                and (singular, "word") not in rows and singular not in excluded):
            rows[(singular, "disguised")] = (tier, form, "derived")
    for kind, stems in STEMS.items():
        for stem in stems:
            known = [f for f in tiers if f.startswith(stem)]
            if not known:
                raise SystemExit(f"stem {stem!r} starts no lexicon term")
            tier = tiers.get(stem, STRONG)
            rows[(stem, kind)] = (tier, stem, "stem")
    forms = {form for form, _ in rows}
    clashes = sorted(set(dsojevic_exceptions) & forms)
    if clashes:
        print(f"dsojevic exceptions that are list terms themselves, kept profane: {clashes}")
    safe = sorted((set(dsojevic_exceptions) - forms) | {words_of(s) for s in SAFE})
    out.mkdir(parents=True, exist_ok=True)
    with (out / "profanity_en.tsv").open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("# replylint profanity lexicon: generated by scripts/build_profanity_lexicon.py "
                 "from LDNOOBW (CC BY 4.0), Surge AI (MIT) and dsojevic (MIT); "
                 "see ATTRIBUTION.md\n")
        fh.write("# form\ttier\tkind\tterm\tsources\n")
        for (form, kind), (tier, base, sources) in sorted(rows.items(),
                                                          key=lambda r: (r[0][1], r[0][0])):
            fh.write(f"{form}\t{tier}\t{kind}\t{base}\t{sources}\n")
    with (out / "profanity_safe_en.txt").open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("# Words and phrases never flagged by the profanity rule "
                 "(Scunthorpe exceptions):\n"
                 "# dsojevic's curated exceptions (MIT) plus replylint's own; generated by "
                 "scripts/build_profanity_lexicon.py\n")
        fh.writelines(f"{s}\n" for s in safe)
    with (out / "profanity_excluded_en.tsv").open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("# List terms deliberately left out of the profanity lexicon, and why.\n")
        fh.write("# term\treason\n")
        fh.writelines(f"{form}\t{reason}\n" for form, reason in sorted(left_out))
    for licence in ("LICENSE-surge-ai-MIT.txt", "LICENSE-dsojevic-MIT.txt"):
        (out / licence).write_text((source / licence).read_text(encoding="utf-8"),
                                   encoding="utf-8")
    stats["lexicon rows"] = len(rows)
    stats["mild rows"] = sum(1 for tier, _, _ in rows.values() if tier == MILD)
    stats["left out"] = len(left_out)
    stats["safe entries"] = len(safe)
    return dict(stats)


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    out = Path(argv[2]) if len(argv) > 2 else OUT
    if not (source / "ldnoobw_en.txt").is_file():
        print(f"skipped: no profanity source lists at {source} (see ../shared/data/profanity)")
        return 0
    for key, value in build(source, out).items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
