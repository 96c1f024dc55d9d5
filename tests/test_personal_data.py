"""The `personal-data` rule type: validated detectors, business-line allowances, redaction."""

from __future__ import annotations

import json

import pytest
import regex

from replylint import Linter, PolicyError, Severity, Violation
from replylint.checks.personal_data import card_number, iban_ok, luhn, ssn_valid
from replylint.policy import load_policy_text

SUGGESTION = ("Move the conversation to a private channel (DM) and don't repeat the customer's "
              "{kind} in public.")


def linter(options: str = "", redact: bool = True) -> Linter:
    policy = load_policy_text(
        "rules:\n"
        "  - id: personal-data\n"
        "    type: personal-data\n"
        "    message: \"Personal data ({kind}): '{match}'\"\n" + options)
    return Linter(policy, redact=redact)


def found(text: str, options: str = "") -> list[tuple[str, str]]:
    report = linter(options).check(text)
    return [(v.rule, text[v.start:v.end]) for v in report.violations]


@pytest.mark.parametrize("text, rule, span", [
    ("Sure, we'll email you at jane.doe+care@gmail.com today.", "personal-data.email",
     "jane.doe+care@gmail.com"),
    ("📧jane.doe@gmail.com😀 thanks", "personal-data.email", "jane.doe@gmail.com"),
    ("Write to Zoë.Müller@beispiel.de.", "personal-data.email", "Zoë.Müller@beispiel.de"),
    ("Got it, we'll ring you on 07911 123456 tomorrow.", "personal-data.phone", "07911 123456"),
    ("We'll call you at (415) 555-2671 shortly.", "personal-data.phone", "(415) 555-2671"),
    ("Is +44 7911 123456 still your mobile?", "personal-data.phone", "+44 7911 123456"),
    ("Is 415.555.2671 the best number?", "personal-data.phone", "415.555.2671"),
    ("We see card 4111 1111 1111 1111 on file.", "personal-data.card", "4111 1111 1111 1111"),
    ("We see card 4111-1111-1111-1111 on file.", "personal-data.card", "4111-1111-1111-1111"),
    ("Card 4111111111111111 was declined.", "personal-data.card", "4111111111111111"),
    ("Your Amex 3782 822463 10005 is blocked.", "personal-data.card", "3782 822463 10005"),
    ("Mastercard 5555 5555 5555 4444 in 2024 works.", "personal-data.card", "5555 5555 5555 4444"),
    ("The refund goes to GB82 WEST 1234 5698 7654 32, ok?", "personal-data.iban",
     "GB82 WEST 1234 5698 7654 32"),
    ("IBAN GB82WEST12345698765432.", "personal-data.iban", "GB82WEST12345698765432"),
    ("Paid to DE89 3704 0044 0532 0130 00 yesterday.", "personal-data.iban",
     "DE89 3704 0044 0532 0130 00"),
    ("We have 536-22-1234 as your number.", "personal-data.ssn", "536-22-1234"),
    ("Your SSN: 536221234 is on file.", "personal-data.ssn", "536221234"),
    ("Your social security number 536 22 1234 matches.", "personal-data.ssn", "536 22 1234"),
])
def test_each_detector_finds_its_kind_with_an_exact_span(text: str, rule: str, span: str) -> None:
    assert found(text) == [(rule, span)]


@pytest.mark.parametrize("text", [
    "The new model costs $1,299.00 or £1,099.",
    "We open at 10:30 and close at 18:00.",
    "It shipped on 2024-05-01 and arrived 12/05/2023.",
    "Please update to iOS 17.2.1 (build 21C66).",
    "Your flight BA 283 leaves from gate 23.",
    "We found order #123456 and order 2025550173 in our system.",
    "Case 00606222 is with our team; ref CAS-19931227-59CP30.",
    "PayPal case ID is PP-006-234-348-863.",
    "Tracking 1234 5678 9012 3456 shows it in transit.",
    "That 4111 1111 1111 1112 fails the checksum.",
    "Pls call 1-800-769-2560 during business hours.",
    "You can reach Virgin Trains on 0344 556 5650.",
    "Give us a call on 0800 123 4567.",
    "Please call us at 242-326-2273. Thx - ^S",
    "Here's the number to the Lynn location: (781) 592-4300 -Dean",
    "See https://t.co/4155552671 and twitter.com/i/web/status/926543789012345678",
    "We shipped 12,000,000 orders in 2023 and 1,250,000 in May.",
    "Your PIN is 4 digits and there are 536221234 reasons to love us.",
    "Product DPCI 030-02-8711 is in stock.",
    "SSN 078-05-1120 is the famous sample number.",
    "@115712 @sprintcare Hi there! DM us.",
    "Mail __email__ and the masked __credit_card__ stay masked.",
    "GB82 WEST 1234 5698 7654 33 has a wrong check digit.",
])
def test_prices_dates_versions_references_and_business_lines_are_not_personal_data(
        text: str) -> None:
    assert found(text) == []


def test_a_violation_carries_kind_suggestion_redacted_match_and_position() -> None:
    text = "Hi Dana,\r\nwe'll call you on 07911 123456.\r\n^MS"
    report = linter().check(text)
    start = text.index("07911")
    assert report.violations == (Violation(
        rule="personal-data.phone", severity=Severity.ERROR,
        message="Personal data (phone number): '***** **3456'",
        start=start, end=start + 12, line=2, column=19, end_line=2, end_column=31,
        matched="***** **3456",
        suggestions=(SUGGESTION.format(kind="phone number"),)),)
    assert text[start:start + 12] == "07911 123456"


@pytest.mark.parametrize("text, secret, shown", [
    ("Card 4111 1111 1111 1111 is on file.", "4111 1111 1111 1111", "**** **** **** 1111"),
    ("IBAN GB82 WEST 1234 5698 7654 32 noted.", "GB82 WEST 1234 5698 7654 32",
     "**** **** **** **** **54 32"),
    ("We'll call you at (415) 555-2671.", "(415) 555-2671", "(***) ***-2671"),
])
def test_the_report_never_leaks_the_full_value(text: str, secret: str, shown: str) -> None:
    report = linter().check(text)
    (violation,) = report.violations
    assert text[violation.start:violation.end] == secret
    assert violation.matched == shown
    assert secret not in json.dumps(report.to_dict())
    assert linter(redact=False).check(text).violations[0].matched == secret


def test_the_brands_own_contacts_in_allow_are_compared_as_numbers_and_emails() -> None:
    options = ("    allow: ['+1 242 326 2273', Jane.Doe@Chase.com]\n"
               "    allow_business_context: false\n")
    text = "Try 242-326-2273 or forward it to jane.doe@chase.com; not bob@chase.com."
    assert found(text) == [("personal-data.phone", "242-326-2273"),
                           ("personal-data.email", "jane.doe@chase.com"),
                           ("personal-data.email", "bob@chase.com")]
    assert found(text, options) == [("personal-data.email", "bob@chase.com")]


@pytest.mark.parametrize("text, expected", [
    ("Please forward it to reportphish@wellsfargo.com.", []),
    ("Report it to abuse@chase.com or customer.care@acme.co.uk.", []),
    ("Mail help@acme.com, privacy@bank.example or no-reply@shop.io.", []),
    ("It came from donotreply@airline.com and uk-support2@app.io.", []),
    ("Is it support@gmail.com or help@yahoo.co.uk?",            # a role name at webmail
     [("personal-data.email", "support@gmail.com"), ("personal-data.email", "help@yahoo.co.uk")]),
    ("Your login is helen@acme.com.", [("personal-data.email", "helen@acme.com")]),
])
def test_role_mailboxes_at_a_company_domain_are_the_brands(
        text: str, expected: list[tuple[str, str]]) -> None:
    """Audit of issue 3: reportphish@wellsfargo.com and abuse@chase.com in real brand replies."""
    assert found(text) == expected
    strict = found(text, "    allow_business_context: false\n")
    assert len(strict) == len(regex.findall(r"\S+@\S+\w", text))


@pytest.mark.parametrize("text", [
    "The lost luggage number is 020 8757 5000.",
    "That phone number is 954-883-3888",
    "The correct contact number is 7045686256",
    "Please give us a call. | +44 (0) 2076604453 (8am-8pm BST Monday-Friday)",
    "The number in the UK is +44 (0)207 660 0767",
    "Report it to our dedicated Disability Assistance Line at 404-209-3434.",
    "Contact the Baggage Services Desk on 0161 496 0000.",
    "Our Sales team is on 0207 660 2300 option 2.",
    "Ring 0207 660 2300, lines are open 8am-8pm.",
    "Please contact our Customer Relations department for Holidays on 0208 7074480.",
])
def test_lines_the_brand_points_to_are_not_personal_data(text: str) -> None:
    """Audit of issue 3: brands' own non-toll-free lines in real replies."""
    assert found(text) == []


@pytest.mark.parametrize("text, number", [
    ("Our team will call you on 07911 123456 today.", "07911 123456"),
    ("The courier will ring 0161 496 0813 when he's outside.", "0161 496 0813"),
    ("We've logged the fault on your home line 020 7946 0958.", "020 7946 0958"),
    ("The store has you down as 07911 123456.", "07911 123456"),
    ("Our office has your mobile on file: 07911 123456.", "07911 123456"),
])
def test_a_number_named_as_the_customers_is_personal_even_near_business_words(
        text: str, number: str) -> None:
    assert found(text) == [("personal-data.phone", number)]


def test_toll_free_allow_entry_matches_any_spelling_of_the_number() -> None:
    options = ("    allow: ['+1 800 769 2560']\n"
               "    allow_number_types: []\n"
               "    allow_business_context: false\n")
    assert found("Try 1-800-769-2560 or 18004633863.", options) == [
        ("personal-data.phone", "18004633863")]


def test_allow_domains_covers_subdomains_but_not_lookalike_domains() -> None:
    options = "    allow_domains: [wellsfargo.com]\n"
    text = ("Forward to reportphish@wellsfargo.com or help@mail.wellsfargo.com, "
            "never to x@notwellsfargo.com.")
    assert found(text, options) == [("personal-data.email", "x@notwellsfargo.com")]


@pytest.mark.parametrize("types, expected", [
    ("[toll-free, shared-cost, uan]", []),
    ("[uan]", [("personal-data.phone", "1-800-769-2560")]),
    ("[]", [("personal-data.phone", "1-800-769-2560"), ("personal-data.phone", "0344 556 5650")]),
])
def test_allow_number_types_decides_which_business_lines_pass(
        types: str, expected: list[tuple[str, str]]) -> None:
    options = f"    allow_number_types: {types}\n    allow_business_context: false\n"
    assert found("Lines: 1-800-769-2560 and 0344 556 5650.", options) == expected


@pytest.mark.parametrize("business, expected", [
    ("true", []),
    ("false", [("personal-data.phone", "415-555-2671")]),
])
def test_a_number_introduced_as_the_brands_line_is_allowed_unless_switched_off(
        business: str, expected: list[tuple[str, str]]) -> None:
    text = "Please call us at 415-555-2671 between 9 and 5."
    assert found(text, f"    allow_business_context: {business}\n") == expected


@pytest.mark.parametrize("regions, expected", [
    ("[GB]", [("personal-data.phone", "07911 123456")]),
    ("[us]", []),
    ("[US, GB]", [("personal-data.phone", "07911 123456")]),
])
def test_regions_decide_how_numbers_without_a_plus_are_read(
        regions: str, expected: list[tuple[str, str]]) -> None:
    assert found("Is 07911 123456 your mobile?", f"    regions: {regions}\n") == expected


def test_detect_limits_the_kinds_looked_for() -> None:
    text = "Is 07911 123456 yours, jane@gmail.com?"
    assert found(text, "    detect: [email]\n") == [("personal-data.email", "jane@gmail.com")]
    assert found(text, "    detect: [phone]\n") == [("personal-data.phone", "07911 123456")]


@pytest.mark.parametrize("text, a_kind", [
    ("jane@gmail.com", "an email address"), ("07911 123456", "a phone number"),
    ("4111 1111 1111 1111", "a payment card number"), ("GB82 WEST 1234 5698 7654 32", "an IBAN"),
    ("SSN 536-22-1234", "an SSN"),
])
def test_a_kind_value_reads_well_in_a_message(text: str, a_kind: str) -> None:
    policy = load_policy_text("rules:\n  - id: pd\n    type: personal-data\n"
                              "    message: 'This reply shows {a_kind}.'\n")
    assert [v.message for v in Linter(policy).check(text).violations] == [
        f"This reply shows {a_kind}."]


def test_a_number_inside_an_email_is_reported_once_as_the_email() -> None:
    assert found("Mail jane4155552671@gmail.com please") == [
        ("personal-data.email", "jane4155552671@gmail.com")]


@pytest.mark.parametrize("yaml_options, location, field", [
    ("    regions: [US, XX]\n", "<string>:5:19", "rules[0].regions[1]: unknown region 'XX'"),
    ("    allow: [help@, '+1 800 769 2560']\n", "<string>:5:13",
     "rules[0].allow[0]: not a valid email address"),
    ("    allow: [hello]\n", "<string>:5:13",
     "rules[0].allow[0]: not an email address, phone number or IBAN"),
    ("    allow_domains: ['exa mple']\n", "<string>:5:21",
     "rules[0].allow_domains[0]: not a domain name"),
    ("    detect: [email, passport]\n", "<string>:5:21", "rules[0].detect[1]: expected one of"),
    ("    allow_number_types: [mobile]\n", "<string>:5:26",
     "rules[0].allow_number_types[0]: expected one of"),
    ("    detect: []\n", "<string>:5:13", "rules[0].detect: must not be empty"),
])
def test_bad_options_are_reported_with_their_position(yaml_options: str, location: str,
                                                      field: str) -> None:
    with pytest.raises(PolicyError) as err:
        linter(yaml_options)
    assert f"{location}: {field}" in str(err.value)


def test_every_compile_error_is_reported_at_once() -> None:
    with pytest.raises(PolicyError) as err:
        linter("    regions: [XX, YY]\n    allow: [hello]\n")
    assert [i.field for i in err.value.issues] == [
        "rules[0].regions[0]", "rules[0].regions[1]", "rules[0].allow[0]"]


@pytest.mark.parametrize("number, valid", [
    ("4111111111111111", True), ("4111111111111112", False), ("79927398713", True),
    ("79927398710", False),
])
def test_luhn(number: str, valid: bool) -> None:
    assert luhn(number) is valid


@pytest.mark.parametrize("number, valid", [
    ("4111111111111111", True),      # Visa
    ("5555555555554444", True),      # Mastercard
    ("2223003122003222", True),      # Mastercard 2-series
    ("378282246310005", True),       # Amex
    ("6011111111111117", True),      # Discover
    ("3530111333300000", True),      # JCB
    ("1234567812345670", False),     # Luhn-valid, no issuer starts with 1
    ("378282246310005000", False),   # Amex prefix, wrong length
])
def test_card_numbers_need_a_known_issuer_and_length(number: str, valid: bool) -> None:
    assert card_number(number) is valid


@pytest.mark.parametrize("iban, valid", [
    ("GB82WEST12345698765432", True), ("DE89370400440532013000", True),
    ("GB82WEST12345698765433", False), ("GB82WEST1234569876543", False),
    ("ZZ82WEST12345698765432", False),
])
def test_iban_checksum_and_country_length(iban: str, valid: bool) -> None:
    assert iban_ok(iban) is valid


@pytest.mark.parametrize("area, group, serial, valid", [
    ("536", "22", "1234", True), ("000", "22", "1234", False), ("666", "22", "1234", False),
    ("912", "22", "1234", False), ("536", "00", "1234", False), ("536", "22", "0000", False),
    ("078", "05", "1120", False),
])
def test_ssn_rules(area: str, group: str, serial: str, valid: bool) -> None:
    assert ssn_valid(area, group, serial) is valid


def test_a_zero_width_character_does_not_hide_an_email() -> None:
    text = "Your receipt went to rosa\u200b.lopez@gmail.com."
    assert found(text) == [("personal-data.email", "rosa\u200b.lopez@gmail.com")]


def test_a_voucher_code_is_a_reference_not_a_phone_number() -> None:
    assert found("Use voucher 4471-2290-1183 at checkout.") == []
