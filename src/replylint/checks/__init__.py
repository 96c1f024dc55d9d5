"""The one table of rule types. A new kind of check is one module here and one row below."""

from __future__ import annotations

from .base import CompileContext, Hit, RuleType
from .length import LengthOptions, compile_length
from .pattern import PatternOptions, compile_pattern
from .personal_data import PersonalDataOptions, compile_personal_data
from .phrase import PhraseOptions, compile_phrase
from .profanity import ProfanityOptions, compile_profanity
from .require import RequireOptions, compile_require
from .tokens import TokensOptions, compile_tokens

RULE_TYPES: dict[str, RuleType] = {
    t.name: t
    for t in (
        RuleType("phrase", PhraseOptions, compile_phrase,
                 "Words and phrases matched on word boundaries, with suggestions and inflections."),
        RuleType("pattern", PatternOptions, compile_pattern,
                 "Regular expressions (Unicode properties, fuzzy matching, named groups)."),
        RuleType("tokens", TokensOptions, compile_tokens,
                 "spaCy Matcher token patterns, for grammar-aware rules."),
        RuleType("require", RequireOptions, compile_require,
                 "Something must (or must not) appear at the start, the end, or anywhere."),
        RuleType("profanity", ProfanityOptions, compile_profanity,
                 "Obfuscation-proof profanity lexicon with mild/strong tiers and an allowlist."),
        RuleType("personal-data", PersonalDataOptions, compile_personal_data,
                 "Emails, phone numbers, payment cards, IBANs and national IDs, validated."),
        RuleType("length", LengthOptions, compile_length,
                 "Length limits per channel, counted as the platform counts."),
    )
}

__all__ = ["RULE_TYPES", "RuleType", "Hit", "CompileContext"]
