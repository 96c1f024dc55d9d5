"""`personal-data`: a customer's email, phone number, payment card, IBAN or US SSN in a reply.

Every detector validates the value, not just its shape (phone numbers through `phonenumbers`,
cards through Luhn and issuer prefixes, IBANs through the mod-97 checksum, SSNs through the SSA
rules), because brand replies are full of prices, dates, case numbers and the brand's own hotlines,
and a rule that fires on those gets switched off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Iterator, Literal, Mapping, get_args

import phonenumbers
import regex
from phonenumbers import Leniency, PhoneNumberMatcher, PhoneNumberType

from ..draft import Draft
from ..options import option
from ..spans import SpanSet
from ..text import INVISIBLE_RE
from .base import CompileContext, Hit

Kind = Literal["email", "phone", "card", "iban", "ssn"]
NumberType = Literal["toll-free", "shared-cost", "premium-rate", "uan", "voip", "personal-number"]

KIND_NAMES: dict[str, str] = {
    "email": "email address", "phone": "phone number", "card": "payment card number",
    "iban": "IBAN", "ssn": "SSN",
}
SUGGESTION = ("Move the conversation to a private channel (DM) and don't repeat the customer's "
              "{kind} in public.")

_NUMBER_TYPES: dict[str, int] = {
    "toll-free": PhoneNumberType.TOLL_FREE, "shared-cost": PhoneNumberType.SHARED_COST,
    "premium-rate": PhoneNumberType.PREMIUM_RATE, "uan": PhoneNumberType.UAN,
    "voip": PhoneNumberType.VOIP, "personal-number": PhoneNumberType.PERSONAL_NUMBER,
}

_EMAIL = regex.compile(
    r"(?<![\w.%+\-@])"
    r"(?P<local>[\w%+\-]+(?:\.[\w%+\-]+)*)"
    r"@(?P<domain>(?:[\p{L}\p{N}](?:[\p{L}\p{N}\-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,24})"
    r"(?![\p{L}\p{N}_\-@]|\.[\p{L}\p{N}])")
_EMAIL_FULL = regex.compile(r"[\w%+\-]+(?:\.[\w%+\-]+)*@(?:[\p{L}\p{N}](?:[\p{L}\p{N}\-]{0,61}"
                            r"[\p{L}\p{N}])?\.)+\p{L}{2,24}")
_DOMAIN = regex.compile(r"(?:[\p{L}\p{N}](?:[\p{L}\p{N}\-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,24}")

# URLs: digits in a URL path are ids (tweet ids, article numbers), not a customer's number; a
# card, SSN or phone number that overlaps a URL is part of it.
_URL = regex.compile(r"(?i)\b(?:https?://|www\.)\S+|\b(?:[a-z0-9\-]+\.)+[a-z]{2,}/\S*")

# Nine digits, single spaces or hyphens between: every SSN and card number has them; a cheap
# gate before the card and SSN scans, which most replies (prices, times, @ids) never need.
_NINE_DIGITS = regex.compile(r"\d(?:[ \-]?\d){8}")
_ASCII_DIGIT = re.compile(r"[0-9]")
_MENTIONS = re.compile(r"@[A-Za-z0-9]+")

# Anything with 7+ digits in a phone-like run; cheap gate before the (slow) phone matcher.
_PHONE_GATE = regex.compile(r"\d(?:[\s().\-/]{0,3}\d){6,}")
# A number right after one of these names a case, order, booking... (the brand's reference).
_REFERENCE_CUE = regex.compile(
    r"(?i)(?:\b(?:order|case|ticket|ref|reference|tracking|booking|confirmation|invoice|"
    r"transaction|claim|flight|reservation|serial|model|imei|pnr|incident|request|dpci|sku|upc|"
    r"item|part|product|voucher|coupon|promo|gift\s+card)"
    r"(?:\s*(?:no\.?|number|num|id|code))?(?:\s+is)?\s*[:#]?\s*#?\s*|#\s*|@)$")

# Words that introduce the brand's own line ("call us at", "our Bangkok office on", "the branch
# ph# is"): a number after them in the same sentence is a business line, not a customer's number.
_BUSINESS_CUE = regex.compile(
    r"(?i)\b(?:call(?:ing)?\s+(?:us|our)|give\s+us\s+a\s+(?:call|ring)|"
    r"(?:contact|reach)\s+(?:us|our)|call\s*cent(?:er|re)s?|contact\s*cent(?:er|re)s?|"
    r"hotline|help\s*line|help\s*desk|"
    r"customer\s+(?:service|care|support|relations)|office|branch|location|store|"
    r"(?:our|their|its)\s+(?:[\w&'-]+\s+){0,3}?(?:number|line|phone|team|desk|department)|"
    r"tel|fax|department|desk|"
    r"reservations|headquarters|lost\s+(?:property|luggage|baggage|(?:&amp;|&|and)\s+found)|"
    r"collect\s+call|number\s+you(?:'ll|\s+will)?\s+need|"
    r"(?:contact(?:ed)?|reach)\s+(?:them|him|her|it))\b|\b(?:ph|phone|tel)\s*#|\bcontact\s*:|"
    r"(?-i:\b(?i:call|dial|ring|contact)\s+(?:[A-Z][\w&'-]*\s+){1,4}(?:at|on)?\s*:?\s*-?\s*$)")
_BUSINESS_CALL = regex.compile(r"(?i)\b(?:call|dial|ring|contact)\s*(?:at|on)?\s*:?\s*$")
# "The lost luggage number is", "That phone number is", "the Disability Assistance Line at",
# "the contact number below": a line named without "your" is a line the brand points to.
_NAMED_LINE = regex.compile(
    r"(?i)(?:"
    r"(?:\b(?:the|that|this|these|those|our|two|both)\s+(?:[\w&'-]+\s+){0,5}?"
    r"(?:numbers?|lines?|phone|contact)|\b(?:numbers?|line|phone)\s+(?:in|for)\s+"
    r"(?!you)(?:the\s+)?[\w&'-]+(?:\s+[\w&'-]+)?)"
    r"(?:\s+(?:(?:from|in|for)\s+(?!you)(?:the\s+)?[\w&'-]+|is|are|was|below|above|here|at|on|"
    r"to\s+(?:call|ring|dial|use)))*\s*[:,\-–]?"
    r"|\bthe\s+(?:[\w&'-]+\s+){0,3}?numbers?\s+(?:to|for)\s+(?!you)[^.!?\n]{0,60}?\s+(?:is|are)"
    r"\s*:?)\s*$")
# A named service written in title case: "Disability Assistance Line at", "Baggage Services on".
_TITLED_LINE = regex.compile(
    r"\b(?:[A-Z][\w&'-]*\s+){1,4}(?:Line|Lines|Desk|Team|Helpline|Hotline|Centre|Center|Office|"
    r"Department|Services?|Support|Care|Relations)\s*(?:at|on|is|:|-|–)?\s*:?\s*$")
# A number that is the customer's: "call you on", "the courier will ring", "your number is",
# "we have you as". It wins over the business cues.
_PERSONAL_CUE = regex.compile(
    r"(?i)(?:\b(?:call|ring|text|phone|sms|message|reach|contact|try|tri)(?:ed|ing)?\s+you\b|"
    r"\byour\s+(?:[\w-]+\s+){0,2}?(?:number|mobile|cell|phone|landline|line|contact|details)\b|"
    r"\b(?:have|has|had|got)\s+you\s+(?:down\s+)?(?:as|on|at)\b|"
    r"\b(?<!\byou)(?<!\bu)(?:'ll|\s+will|\s+would|'d|\s+tried(?:\s+to)?|\s+trying\s+to|"
    r"\s+going\s+to)\s+(?:\w+\s+)?(?:call|ring|text|phone|sms|message|try|reach)"
    r"(?:\s+back)?\s*(?:on|at)?\s*:?\s*$|"
    r"\bon\s+file\b|\bregistered\s+(?:to|as|under)\b|\b(?:updated|changed)\s+(?:it\s+)?to\b)")
# After the number: opening hours, menu options and call charges are only given for a business.
_BUSINESS_AFTER = regex.compile(
    r"(?i)^[\s,.;:)(/-]{0,3}(?:\(?(?:option|opt\.?|press|ext\.?|extension)\s*\d|"
    r"(?:lines\s+are\s+)?open\b|opening\s+hours|\(?\d{1,2}(?::\d{2})?\s*(?:am|pm)?\s*[-–]\s*"
    r"\d{1,2}(?::\d{2})?\s*(?:am|pm)|24/7|24\s+hours|calls?\s+(?:cost|are\s+charged|charged)|"
    r"\(?(?:mon(?:day)?|weekdays)\b)")
_BUSINESS_WINDOW = 40
_SENTENCE_WINDOW = 90
# Published numbers in the international format with the trunk prefix: +44 (0)20 ...
_TRUNK_NOTATION = regex.compile(r"^\+\d{1,3}\s*\(0\)")

_DIGIT_RUN = regex.compile(r"\d+(?:[ \-]\d+)*")
_IBAN = regex.compile(r"(?<![\p{L}\p{N}])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,32}")
_SSN_SEPARATED = regex.compile(
    r"(?<![\w\-./])(?P<area>\d{3})(?P<sep>[\- ])(?P<group>\d{2})(?P=sep)(?P<serial>\d{4})"
    r"(?![\w\-]|[./]\d)")
_SSN_BARE = regex.compile(
    r"(?<![\w\-./])(?P<area>\d{3})(?P<group>\d{2})(?P<serial>\d{4})(?![\w\-]|[./]\d)")
_SSN_CUE = regex.compile(r"(?i)\b(?:ssn|ss#|social\s+security|soc\.?\s*sec\.?)")
_SSN_CUE_WINDOW = 40

# IBAN lengths per country, from the SWIFT IBAN registry.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

_ANY = frozenset(range(13, 20))
# Issuer prefixes (inclusive ranges compared on the prefix length) and the lengths they issue.
CARD_ISSUERS: tuple[tuple[str, str, frozenset[int]], ...] = (
    ("4", "4", frozenset({13, 16, 19})),             # Visa
    ("51", "55", frozenset({16})),                   # Mastercard
    ("2221", "2720", frozenset({16})),               # Mastercard 2-series
    ("34", "34", frozenset({15})),                   # American Express
    ("37", "37", frozenset({15})),
    ("6011", "6011", frozenset(range(16, 20))),      # Discover
    ("644", "649", frozenset(range(16, 20))),
    ("65", "65", frozenset(range(16, 20))),
    ("300", "305", frozenset(range(14, 20))),        # Diners Club
    ("36", "36", frozenset(range(14, 20))),
    ("38", "39", frozenset(range(16, 20))),
    ("3528", "3589", frozenset(range(16, 20))),      # JCB
    ("62", "62", frozenset(range(16, 20))),          # UnionPay
    ("2200", "2204", frozenset(range(16, 20))),      # Mir
    ("50", "50", _ANY),                              # Maestro
    ("56", "58", _ANY),
    ("6304", "6304", _ANY),
    ("6759", "6759", _ANY),
    ("676", "676", _ANY),
    ("60", "60", frozenset(range(16, 20))),          # RuPay
)


@dataclass(frozen=True)
class PersonalDataOptions:
    detect: list[Kind] = option(list(get_args(Kind)), nonempty=True,
                                doc="Which kinds of personal data to look for.")
    allow: list[str] = option(
        [], doc="The brand's own contacts: emails (compared case-insensitively), phone numbers "
                "(compared as numbers, so 1-800-769-2560 matches +1 800 769 2560) and IBANs.")
    allow_domains: list[str] = option(
        [], doc="Email addresses at these domains (or their subdomains) are the brand's own.")
    allow_number_types: list[NumberType] = option(
        ["toll-free", "shared-cost", "uan"],
        doc="Phone number types that are business lines, never a customer's own number.")
    regions: list[str] = option(
        ["US", "GB"], nonempty=True,
        doc="ISO 3166 region codes tried, in order, for phone numbers written without +.")
    allow_business_context: bool = option(
        True, doc="A phone number introduced as the brand's own line ('call us at', 'our call "
                  "centre', 'the lost luggage number is', a +44 (0) number or one followed by "
                  "opening hours) and a role mailbox at a company domain (help@, abuse@) are not "
                  "personal data; a number named as the customer's ('your mobile') always is.")


@dataclass(frozen=True)
class PersonalDataCheck:
    kinds: frozenset[str]
    regions: tuple[str, ...]
    allowed_emails: frozenset[str]
    allowed_domains: tuple[str, ...]
    allowed_numbers: frozenset[str]
    allowed_types: frozenset[int]
    business_context: bool

    def find(self, draft: Draft) -> list[Hit]:
        """The hits, as a new list (`[]` at once for a reply without digits or "@")."""
        text = draft.text
        has_digit = _has_digit(text)
        at = "@" in text
        if not has_digit and not at:
            return []
        urls = _Urls(text if has_digit else "")
        taken = SpanSet()
        found: list[tuple[int, int, str]] = []

        def keep(start: int, end: int, kind: str) -> None:
            if taken.add(start, end):
                found.append((start, end, kind))

        if "email" in self.kinds and at:
            for start, end in self._emails(text):
                keep(start, end, "email")
        if has_digit:
            if "iban" in self.kinds:
                for start, end in self._ibans(text, urls):
                    keep(start, end, "iban")
            nine, phone = self._gates(text, urls)
            if nine and "card" in self.kinds:
                for start, end in self._cards(text, urls):
                    keep(start, end, "card")
            if nine and "ssn" in self.kinds:
                for start, end in self._ssns(text, urls):
                    keep(start, end, "ssn")
            if phone:
                for start, end in self._phones(text, urls):
                    keep(start, end, "phone")
        return [Hit(start, end, values=_KIND_VALUES[kind], suggestions=(SUGGESTION,),
                    sub_id=kind, redact=True) for start, end, kind in sorted(found)]

    def _gates(self, text: str, urls: _Urls) -> tuple[bool, bool]:
        """Whether the card and SSN scans (nine digits) and the phone scan (seven) may find
        anything. They read the text with @mentions and links blanked out: none of those
        numbers is reported inside one. A number right after "@" is a reference and one after
        a letter or digit is glued to a word, so none starts inside an @mention (`@115712`);
        one that overlaps a link is part of the link."""
        want_nine = "card" in self.kinds or "ssn" in self.kinds
        want_phone = "phone" in self.kinds

        def gates(bare: str) -> tuple[bool, bool]:
            # Nine digits for a card or SSN, seven for a phone number: counted at C speed
            # first, which settles most replies (a date, an order number) without a regex.
            count = _digit_count(bare)
            return (want_nine and count >= 9 and _NINE_DIGITS.search(bare) is not None,
                    want_phone and count >= 7 and _PHONE_GATE.search(bare) is not None)

        bare = _MENTIONS.sub(_blank, text) if "@" in text else text
        nine, phone = gates(bare)
        # Links are found (a costly regex) only when the digits outside mentions pass.
        if (nine or phone) and ("/" in text or "ww" in text.lower()):
            nine, phone = gates(_without(bare, urls.spans))
        return nine, phone

    def _emails(self, text: str) -> Iterator[tuple[int, int]]:
        shown, where = visible(text)
        if not _may_hold_email(shown):
            return
        for m in _EMAIL.finditer(shown):
            if m.group(0).casefold() in self.allowed_emails:
                continue
            if domain_allowed(m.group("domain"), self.allowed_domains):
                continue
            if self.business_context and role_mailbox(m.group("local"), m.group("domain")):
                continue
            yield (where[m.start()], where[m.end() - 1] + 1) if where else m.span()

    def _ibans(self, text: str, urls: _Urls) -> Iterator[tuple[int, int]]:
        for m in _IBAN.finditer(text):
            span = iban_span(text, m.start(), m.end())
            if span is None or urls.spans.contains(*span):
                continue
            compact = compact_alnum(text[span[0]:span[1]])
            if compact not in self.allowed_numbers:
                yield span

    def _cards(self, text: str, urls: _Urls) -> Iterator[tuple[int, int]]:
        for m in _DIGIT_RUN.finditer(text):
            if not standalone(text, m.start(), m.end()) or urls.spans.overlaps(*m.span()):
                continue
            for span in card_spans(m.group(0), m.start()):
                if reference(text, span[0]):
                    continue
                if compact_alnum(text[span[0]:span[1]]) not in self.allowed_numbers:
                    yield span

    def _ssns(self, text: str, urls: _Urls) -> Iterator[tuple[int, int]]:
        for pattern, needs_cue in ((_SSN_SEPARATED, False), (_SSN_BARE, True)):
            for m in pattern.finditer(text):
                if not ssn_valid(m["area"], m["group"], m["serial"]):
                    continue
                if urls.spans.overlaps(*m.span()):
                    continue
                if reference(text, m.start()):
                    continue
                if needs_cue and not _SSN_CUE.search(
                        text, max(0, m.start() - _SSN_CUE_WINDOW), m.start()):
                    continue
                yield m.span()

    def _phones(self, text: str, urls: _Urls) -> Iterator[tuple[int, int]]:
        seen: list[tuple[int, int]] = []
        for region in self.regions:
            for match in PhoneNumberMatcher(text, region, leniency=Leniency.VALID):
                span = (match.start, match.end)
                if any(s < span[1] and span[0] < e for s, e in seen):
                    continue
                seen.append(span)
                if (urls.spans.overlaps(*span) or glued(text, span[0])
                        or reference(text, span[0])):
                    continue
                if phonenumbers.number_type(match.number) in self.allowed_types:
                    continue
                if self.business_context and business_line(text, span[0], span[1]):
                    continue
                e164 = phonenumbers.format_number(match.number,
                                                  phonenumbers.PhoneNumberFormat.E164)
                if e164 in self.allowed_numbers or digits(match.raw_string) in self.allowed_numbers:
                    continue
                yield span


def _kind_values(kind: str) -> Mapping[str, str]:
    name = KIND_NAMES[kind]
    article = "an" if name[0] in "aeiouAEIS" else "a"
    return MappingProxyType({"kind": name, "a_kind": f"{article} {name}"})


# Read-only: shared by every hit of the kind.
_KIND_VALUES = {kind: _kind_values(kind) for kind in KIND_NAMES}


class _Urls:
    """The URL spans of a reply, found only if a candidate needs them (most replies have none)."""

    __slots__ = ("text", "_spans")

    def __init__(self, text: str) -> None:
        self.text = text
        self._spans: SpanSet | None = None

    @property
    def spans(self) -> SpanSet:
        if self._spans is None:
            self._spans = SpanSet(m.span() for m in _URL.finditer(self.text))
        return self._spans


def _blank(m: re.Match[str]) -> str:
    return " " * (m.end() - m.start())


def _without(text: str, spans: SpanSet) -> str:
    """`text` with the spans blanked out (the same length, so offsets still hold)."""
    if not spans:
        return text
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        pieces += (text[last:start], " " * (end - start))
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _may_hold_email(text: str) -> bool:
    """False when no "@" has a local-part character before it and a domain character after
    it (`_EMAIL` needs both), as for the @mentions most replies start with."""
    at = text.find("@", 1)
    while at > 0:
        before, after = text[at - 1], text[at + 1:at + 2]
        if ((before.isalnum() or before in "_%+-" or not before.isascii())
                and (after.isalnum() or (after and not after.isascii()))):
            return True
        at = text.find("@", at + 1)
    return False


_ASCII_DIGITS = b"0123456789"


def _digit_count(text: str) -> int:
    """How many characters of `text` are digits (`\\d`), exactly for ASCII text; for other text
    a bound that never undercounts (its length), so gates that use it stay sound."""
    if not text.isascii():
        return len(text)
    return len(text) - len(text.encode("ascii").translate(None, _ASCII_DIGITS))


def _has_digit(text: str) -> bool:
    """`any(ch.isdigit() for ch in text)`, at C speed for ASCII text."""
    if text.isascii():
        return _ASCII_DIGIT.search(text) is not None
    return any(ch.isdigit() for ch in text)


def visible(text: str) -> tuple[str, list[int]]:
    """`text` without zero-width and bidi characters (`rosa\u200b.lopez@...` hides nothing),
    and the original index of each character left ([] when nothing was removed)."""
    if text.isascii() or not INVISIBLE_RE.search(text):
        return text, []
    where = [i for i, ch in enumerate(text) if not INVISIBLE_RE.match(ch)]
    return "".join(text[i] for i in where), where


def business_line(text: str, start: int, end: int | None = None) -> bool:
    """Is the number at text[start:end] introduced, in its own sentence, as the brand's line?

    A cue that makes it the customer's own ("call you on", "your number", "on file") in the
    words just before it wins; then the brand's cues in the sentence before it ("our call
    centre", "the lost luggage number is"), a published +44 (0) format, or what follows it
    (opening hours, "option 2", call charges).
    """
    sentence = _sentence_before(text, start, _SENTENCE_WINDOW)
    near = sentence[-_BUSINESS_WINDOW:]
    if _PERSONAL_CUE.search(near):
        return False
    if (_BUSINESS_CUE.search(sentence) or _BUSINESS_CALL.search(near)
            or _NAMED_LINE.search(sentence) or _TITLED_LINE.search(near)):
        return True
    if end is None:
        return False
    return bool(_TRUNK_NOTATION.match(text, start) or _BUSINESS_AFTER.match(text[end:end + 40]))


def _sentence_before(text: str, start: int, width: int) -> str:
    window = text[max(0, start - width):start]
    cut = max(window.rfind(". "), window.rfind("! "), window.rfind("? "), window.rfind("\n"))
    return window[cut + 1:]


# Mailbox names a company gives a role, not a person (help@, reportphish@, customer.care@,
# no-reply@): an address made only of these words at a company's domain is the brand's.
ROLE_WORDS = frozenset({
    "abuse", "accessibility", "account", "accounts", "admin", "alerts", "answers", "appeals",
    "ask", "assist", "assistance", "baggage", "billing", "bookings", "care", "careers", "claims",
    "community", "complaint", "complaints", "compliance", "concierge", "contact", "contactus",
    "customer", "customers", "customercare", "customerservice", "data", "desk", "do", "dpo",
    "enquiries", "enquiry", "escalations", "feedback", "fraud", "gdpr", "groups", "hello", "help",
    "helpdesk", "hi", "info", "information", "inquiries", "inquiry", "investor", "investors", "ir",
    "jobs", "legal", "lost", "luggage", "mail", "marketing", "media", "member", "members",
    "membership", "news", "newsletter", "no", "noreply", "not", "notifications", "office",
    "online", "orders", "partners", "payments", "phish", "phishing", "postmaster", "press",
    "privacy", "protection", "recruitment", "refunds", "relations", "report", "reports",
    "reservations", "returns", "safety", "sales", "security", "service", "services", "social",
    "spam", "spoof", "support", "team", "tickets", "trust", "uk", "us", "eu", "web", "webmaster",
    "welcome", "reply", "replies"
})
# Free webmail: a role-like name there (support@gmail.com) is a person's (or a scammer's).
WEBMAIL = frozenset({
    "gmail", "googlemail", "yahoo", "ymail", "hotmail", "outlook", "live", "msn", "icloud", "me",
    "mac", "aol", "proton", "protonmail", "pm", "gmx", "web", "mail", "yandex", "zoho", "qq",
    "163", "126", "btinternet", "sky", "virginmedia", "talktalk", "comcast", "verizon", "att",
    "sbcglobal", "bellsouth", "rocketmail"
})
_ROLE_PIECES = regex.compile(r"[a-z]+|\d+")


def role_mailbox(local: str, domain: str) -> bool:
    """Is `local@domain` a company's role mailbox (help@acme.com, reportphish@wellsfargo.com)?"""
    if domain.casefold().split(".")[0] in WEBMAIL:
        return False
    pieces = _ROLE_PIECES.findall(local.casefold())
    return bool(pieces) and all(p.isdigit() or _role_word(p) for p in pieces)


@lru_cache(maxsize=4096)
def _role_word(word: str) -> bool:
    """A role word, or role words run together (reportphish, customerservice, donotreply)."""
    if word in ROLE_WORDS:
        return True
    return any(word[:i] in ROLE_WORDS and _role_word(word[i:]) for i in range(2, len(word) - 1))


def reference(text: str, start: int) -> bool:
    """Is the number at `start` named as an order, case, booking... number?"""
    return bool(_REFERENCE_CUE.search(text, max(0, start - 30), start))


def glued(text: str, start: int) -> bool:
    """`PP-006-234-348-863`: digits hyphenated onto letters are an id, not a phone number."""
    return start >= 2 and text[start - 1] in "-/" and text[start - 2].isalnum()


def digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def compact_alnum(value: str) -> str:
    return "".join(ch for ch in value if ch.isalnum()).upper()


def domain_allowed(domain: str, allowed: tuple[str, ...]) -> bool:
    """`help.acme.com` is allowed by `acme.com`; `notacme.com` is not."""
    domain = domain.casefold()
    return any(domain == a or domain.endswith("." + a) for a in allowed)


def standalone(text: str, start: int, end: int) -> bool:
    """A digit run that is not glued to a word, a decimal point, a price or an id."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    if before and (before.isalnum() or before in "_$€£¥#@/" or
                   (before in ".," and start > 1 and text[start - 2].isdigit())):
        return False
    if after and (after.isalnum() or after == "_"):
        return False
    return not (after in ".,/:" and end + 1 < len(text) and text[end + 1].isdigit())


def luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_issuer_ok(number: str) -> bool:
    for low, high, lengths in CARD_ISSUERS:
        if low <= number[:len(low)] <= high and len(number) in lengths:
            return True
    return False


def card_number(number: str) -> bool:
    return 13 <= len(number) <= 19 and card_issuer_ok(number) and luhn(number)


def card_spans(run: str, offset: int) -> Iterator[tuple[int, int]]:
    """Card numbers inside one run of digit groups (`4111 1111 1111 1111`, `4111-1111-…`).

    A run without separators must be a card as a whole; a grouped run may hold a card among
    other groups (a year, a count), so consecutive groups of 3+ digits are tried, longest first.
    """
    groups = [(m.start(), m.end()) for m in regex.finditer(r"\d+", run)]
    if len(groups) == 1:
        if card_number(run):
            yield offset, offset + len(run)
        return
    i = 0
    while i < len(groups):
        best: int | None = None
        total = 0
        for j in range(i, len(groups)):
            gs, ge = groups[j]
            if ge - gs < 3:
                break
            total += ge - gs
            if total > 19:
                break
            if total >= 13 and card_number(digits(run[groups[i][0]:ge])):
                best = j
        if best is not None:
            yield offset + groups[i][0], offset + groups[best][1]
            i = best + 1
        else:
            i += 1


def iban_ok(compact: str) -> bool:
    length = IBAN_LENGTHS.get(compact[:2])
    if length is None or len(compact) != length or not "02" <= compact[2:4] <= "98":
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def iban_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Cut a candidate to its country's IBAN length and check it ends on a word boundary."""
    length = IBAN_LENGTHS.get(text[start:start + 2])
    if length is None:
        return None
    count = 0
    pos = start
    while pos < end and count < length:
        if text[pos] != " ":
            count += 1
        pos += 1
    if count != length or (pos < len(text) and text[pos].isalnum()):
        return None
    return (start, pos) if iban_ok(compact_alnum(text[start:pos])) else None


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """SSA rules: no 000/666/9xx area, no 00 group, no 0000 serial, not a published sample."""
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return f"{area}{group}{serial}" not in ("078051120", "219099999", "123456789")


def compile_personal_data(opts: PersonalDataOptions,
                          ctx: CompileContext) -> PersonalDataCheck | None:
    ok = True
    regions: list[str] = []
    for i, region in enumerate(opts.regions):
        code = region.strip().upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            ctx.error(("regions", i), f"unknown region {region!r}",
                      "an ISO 3166-1 alpha-2 code such as US, GB, DE, IN")
            ok = False
        elif code not in regions:
            regions.append(code)
    emails: set[str] = set()
    numbers: set[str] = set()
    for i, entry in enumerate(opts.allow):
        value = entry.strip()
        if "@" in value:
            if _EMAIL_FULL.fullmatch(value):
                emails.add(value.casefold())
            else:
                ctx.error(("allow", i), f"not a valid email address: {entry!r}",
                          "e.g. help@example.com")
                ok = False
            continue
        compact = compact_alnum(value)
        if iban_ok(compact) or card_number(compact):
            numbers.add(compact)
            continue
        parsed = phone_forms(value, regions or ["US"])
        if not parsed:
            ctx.error(("allow", i), f"not an email address, phone number or IBAN: {entry!r}",
                      "e.g. help@example.com or +1 800 769 2560")
            ok = False
        numbers.update(parsed)
    domains: list[str] = []
    for i, domain in enumerate(opts.allow_domains):
        value = domain.strip().lstrip("@").rstrip(".").casefold()
        if not _DOMAIN.fullmatch(value):
            ctx.error(("allow_domains", i), f"not a domain name: {domain!r}", "e.g. example.com")
            ok = False
        domains.append(value)
    if not ok:
        return None
    return PersonalDataCheck(
        kinds=frozenset(opts.detect), regions=tuple(regions), allowed_emails=frozenset(emails),
        allowed_domains=tuple(domains), allowed_numbers=frozenset(numbers),
        allowed_types=frozenset(_NUMBER_TYPES[t] for t in opts.allow_number_types),
        business_context=opts.allow_business_context)


def phone_forms(value: str, regions: list[str]) -> set[str]:
    """The E.164 forms of an allowed phone number in each region, plus its bare digits."""
    if not regex.fullmatch(r"\+?[\d\s().\-/]+", value) or len(digits(value)) < 3:
        return set()
    forms: set[str] = set()
    for region in regions:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            forms.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    if forms:
        forms.add(digits(value))
    return forms
