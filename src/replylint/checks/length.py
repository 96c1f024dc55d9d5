"""`length`: per-channel length limits, counted the way each platform counts.

X/Twitter weighs characters (twitter-text v3: Latin 1, CJK 2, every emoji 2, every URL 23) and
does not count a reply's leading @mentions; SMS counts GSM-7 septets or UCS-2 code units. A plain
`len()` is wrong on both, in opposite directions, so each channel says how it counts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Literal, Mapping

import regex

from ..draft import Draft
from ..options import option
from .base import CompileContext, Hit

Counting = Literal["twitter", "characters", "graphemes", "sms"]
Unit = tuple[int, int, int]  # original start, original end, weight

DEFAULT_COUNTING: dict[str, Counting] = {"twitter": "twitter", "x": "twitter", "sms": "sms"}
FALLBACK_COUNTING: Counting = "graphemes"

# twitter-text v3 configuration.
TWITTER_URL_WEIGHT = 23
TWITTER_EMOJI_WEIGHT = 2
TWITTER_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))

_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(r"\p{Emoji_Presentation}|\u20E3|\p{RI}{2}"
                       r"|\p{Extended_Pictographic}[\uFE0F\p{Emoji_Modifier}]")
_LEADING_MENTIONS = regex.compile(r"\s*(?:[@＠][A-Za-z0-9_]{1,15}(?:\s+|$))+")

_GTLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|name|pro|aero|coop|museum|mobi|asia|tel|travel|jobs|"
    "app|dev|page|shop|store|online|site|website|xyz|tech|news|blog|cloud|help|support|email|"
    "link|live|club|top|vip|wiki|world|today|life|space|fun|media|studio|design|agency|group|"
    "company|solutions|services|network|digital|center|care|health|bank|insurance|finance|money|"
    "airline|travel|google|apple|amazon|microsoft")
_CCTLDS = (
    "ac|ad|ae|af|ag|ai|al|am|ao|aq|ar|as|at|au|aw|ax|az|ba|bb|bd|be|bf|bg|bh|bi|bj|bm|bn|bo|br|"
    "bs|bt|bw|by|bz|ca|cc|cd|cf|cg|ch|ci|ck|cl|cm|cn|co|cr|cu|cv|cw|cx|cy|cz|de|dj|dk|dm|do|dz|"
    "ec|ee|eg|er|es|et|eu|fi|fj|fk|fm|fo|fr|ga|gd|ge|gf|gg|gh|gi|gl|gm|gn|gp|gq|gr|gs|gt|gu|gw|"
    "gy|hk|hm|hn|hr|ht|hu|id|ie|il|im|in|io|iq|ir|is|it|je|jm|jo|jp|ke|kg|kh|ki|km|kn|kp|kr|kw|"
    "ky|kz|la|lb|lc|li|lk|lr|ls|lt|lu|lv|ly|ma|mc|md|me|mg|mh|mk|ml|mm|mn|mo|mp|mq|mr|ms|mt|mu|"
    "mv|mw|mx|my|mz|na|nc|ne|nf|ng|ni|nl|no|np|nr|nu|nz|om|pa|pe|pf|pg|ph|pk|pl|pm|pn|pr|ps|pt|"
    "pw|py|qa|re|ro|rs|ru|rw|sa|sb|sc|sd|se|sg|sh|si|sk|sl|sm|sn|so|sr|ss|st|su|sv|sx|sy|sz|tc|"
    "td|tf|tg|th|tj|tk|tl|tm|tn|to|tr|tt|tv|tw|tz|ua|ug|uk|us|uy|uz|va|vc|ve|vg|vi|vn|vu|wf|ws|"
    "ye|yt|za|zm|zw")
# twitter-text links bare domains too (delta.com, bit.ly/x), but not a lone `name.cc` without a
# path, except on .co and .tv; a URL never starts right after a letter, digit, @, $ or #.
_URL_PATTERN = (
    r"(?i)(?<![\p{L}\p{N}@＠$#＃_\-./])"
    r"(?:(?P<scheme>https?://)[^\s<>\"]+"
    r"|(?P<domain>(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+"
    rf"(?P<tld>{_GTLDS}|{_CCTLDS}))(?![\p{{L}}\p{{N}}@\-_])(?::\d{{1,5}})?(?P<path>/[^\s<>\"]*)?)")


@lru_cache(maxsize=1)
def _url_regex() -> "regex.Pattern[str]":
    """Compiled on first use: a large pattern, and only `twitter` counting needs it."""
    return regex.compile(_URL_PATTERN)

_URL_TRAILING = regex.compile(r"[.,:;!?'\")\]}…]+$")
_SHORT_CCTLD_DOMAIN = regex.compile(rf"(?i)^[a-z0-9\-]+\.(?:{_CCTLDS})$")
_SPECIAL_CCTLD = regex.compile(r"(?i)\.(?:co|tv)$")

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
SMS_GSM7 = (160, 153)
SMS_UCS2 = (70, 67)


@dataclass(frozen=True)
class LengthOptions:
    limits: dict[str, int] = option(
        {"twitter": 280, "x": 280, "sms": 160, "instagram": 2200, "facebook": 8000},
        doc="Channel name -> the most it may hold, counted as `counting` says for the channel.")
    default_limit: int | None = option(
        None, minimum=1,
        doc="Limit for a draft with no channel or a channel not in `limits`; null = no check.")
    counting: dict[str, Counting] = option(
        dict(DEFAULT_COUNTING),
        doc="Channel name -> how it counts (twitter, characters, graphemes, sms); channels not "
            "listed count as twitter/x: twitter, sms: sms, others: graphemes.")
    exclude_leading_mentions: bool = option(
        True, doc="With twitter counting, a reply's leading @mentions do not count (as on X).")


@dataclass(frozen=True)
class LengthCheck:
    limits: Mapping[str, int]
    default_limit: int | None
    counting: Mapping[str, Counting]
    exclude_leading_mentions: bool

    def find(self, draft: Draft) -> Iterator[Hit]:
        channel = (draft.context.channel or "").strip().casefold()
        limit = self.limits.get(channel, self.default_limit) if channel else self.default_limit
        if limit is None:
            return
        how = self.counting.get(channel, FALLBACK_COUNTING)
        text = draft.text
        ucs2 = how == "sms" and needs_ucs2(text)
        if how == "sms":
            limit = sms_limit(limit, ucs2)
        count, over_at = measure(units(text, how, self.exclude_leading_mentions), limit)
        if over_at is None:
            return
        values = {"length": str(count), "limit": str(limit),
                  "channel": draft.context.channel or "", "over": str(count - limit)}
        if how == "sms":
            values["encoding"] = "UCS-2" if ucs2 else "GSM-7"
            values["parts"] = str(sms_parts(count, ucs2))
        yield Hit(over_at, len(text), values=values,
                  suggestions=("Shorten the reply by {over} characters ({length}/{limit}).",))


def units(text: str, how: Counting, exclude_leading_mentions: bool = False) -> Iterator[Unit]:
    """The text cut into weighted units, as channel counting `how` counts them."""
    if how == "sms":
        return sms_units(text, needs_ucs2(text))
    if how == "twitter":
        m = _LEADING_MENTIONS.match(text) if exclude_leading_mentions else None
        return twitter_units(text, m.end() if m else 0)
    if how == "characters":
        return ((i, i + 1, 1) for i in range(len(text)))
    return ((m.start(), m.end(), 1) for m in _GRAPHEME.finditer(text))


def length(text: str, how: Counting, exclude_leading_mentions: bool = False) -> int:
    """How long `text` is for a platform that counts the way `how` says."""
    return sum(weight for _, _, weight in units(text, how, exclude_leading_mentions))


def measure(units: Iterator[Unit], limit: int) -> tuple[int, int | None]:
    """Total weight, and where the first unit that takes the total past `limit` starts."""
    total = 0
    over_at: int | None = None
    for start, _end, weight in units:
        total += weight
        if over_at is None and total > limit:
            over_at = start
    return total, over_at


def code_point_weight(cp: int) -> int:
    return 1 if any(lo <= cp <= hi for lo, hi in TWITTER_LIGHT_RANGES) else 2


def twitter_weight(grapheme: str) -> int:
    """twitter-text v3 weight of one grapheme: 2 for an emoji, else per NFC code point."""
    if _EMOJI.search(grapheme):
        return TWITTER_EMOJI_WEIGHT
    return sum(code_point_weight(ord(ch)) for ch in unicodedata.normalize("NFC", grapheme))


def twitter_units(text: str, start: int = 0) -> Iterator[Unit]:
    """Weighted units of `text[start:]`: each URL one unit of 23, else one unit per grapheme."""
    pos = start
    for url_start, url_end in url_spans(text, start):
        yield from _grapheme_units(text, pos, url_start)
        yield url_start, url_end, TWITTER_URL_WEIGHT
        pos = url_end
    yield from _grapheme_units(text, pos, len(text))


def _grapheme_units(text: str, start: int, end: int) -> Iterator[Unit]:
    if text.isascii():
        yield from ((i, i + 1, 1) for i in range(start, end))
        return
    for m in _GRAPHEME.finditer(text, start, end):
        yield m.start(), m.end(), twitter_weight(m.group())


def url_spans(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """URLs as twitter-text finds them (approximately): with a scheme, or bare domains."""
    if "." not in text:
        return
    for m in _url_regex().finditer(text, start):
        url = m.group()
        trimmed = _URL_TRAILING.search(url)
        end = m.end() - (len(trimmed.group()) if trimmed else 0)
        if m.group("scheme") is None:
            domain = m.group("domain")
            if (m.group("path") is None and _SHORT_CCTLD_DOMAIN.match(domain)
                    and not _SPECIAL_CCTLD.search(domain)):
                continue
        elif end - m.start() <= len(m.group("scheme")):
            continue
        yield m.start(), end


def sms_limit(limit: int, ucs2: bool) -> int:
    """A limit in GSM-7 characters, scaled to what the same number of messages holds in UCS-2."""
    if not ucs2:
        return limit
    if limit <= SMS_GSM7[0]:
        return limit * SMS_UCS2[0] // SMS_GSM7[0]
    return limit * SMS_UCS2[1] // SMS_GSM7[1]


def sms_units(text: str, ucs2: bool) -> Iterator[Unit]:
    """GSM-7 septets (extension characters take 2) or UCS-2 code units (astral characters 2)."""
    for m in _GRAPHEME.finditer(text):
        g = m.group()
        if ucs2:
            weight = sum(2 if ord(ch) > 0xFFFF else 1 for ch in g)
        else:
            weight = sum(2 if ch in GSM7_EXTENSION else 1 for ch in g)
        yield m.start(), m.end(), weight


def needs_ucs2(text: str) -> bool:
    return not all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def sms_parts(count: int, ucs2: bool) -> int:
    """How many messages `count` units take (concatenated parts hold 153 GSM-7 / 67 UCS-2)."""
    single, part = SMS_UCS2 if ucs2 else SMS_GSM7
    return 1 if count <= single else -(-count // part)


def compile_length(opts: LengthOptions, ctx: CompileContext) -> LengthCheck | None:
    ok = True
    limits: dict[str, int] = {}
    for name, value in opts.limits.items():
        key = name.strip().casefold()
        if not key:
            ctx.error(("limits", name), "a channel name must not be empty")
            ok = False
        elif key in limits:
            ctx.error(("limits", name), f"channel {name!r} is listed twice (names ignore case)")
            ok = False
        elif value < 1:
            ctx.error(("limits", name), f"a limit must be at least 1, found {value}")
            ok = False
        limits[key] = value
    counting: dict[str, Counting] = dict(DEFAULT_COUNTING)
    seen: set[str] = set()
    for name, how in opts.counting.items():
        key = name.strip().casefold()
        if not key or key in seen:
            ctx.error(("counting", name), "a channel name must not be empty" if not key else
                      f"channel {name!r} is listed twice (names ignore case)")
            ok = False
        seen.add(key)
        counting[key] = how
    if not ok:
        return None
    return LengthCheck(limits=limits, default_limit=opts.default_limit, counting=counting,
                       exclude_leading_mentions=opts.exclude_leading_mentions)
