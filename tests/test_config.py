"""Policy discovery (nearest config wins), pyproject forms, caching, and --select/--ignore."""

from __future__ import annotations

from pathlib import Path

import pytest

import replylint.config as config
from replylint import Linter
from replylint.config import PolicyRef, PolicyResolver, Selection, discover_policy
from replylint.errors import PolicyError, UsageError
from replylint.policy import load_policy_text

POLICY = """
policy: {{name: {name}}}
rules:
  - id: {rule}
    type: pattern
    patterns: ['\\bdamn\\b']
"""


def write_policy(path: Path, name: str = "p", rule: str = "swear") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(POLICY.format(name=name, rule=rule))
    return path


def no_config_above(path: Path) -> bool:
    return all(not (d / n).exists() for d in path.parents
               for n in (".replylint.yaml", "replylint.yaml", "pyproject.toml"))


def test_nearest_config_wins_and_dot_file_beats_plain(tmp_path: Path) -> None:
    write_policy(tmp_path / ".replylint.yaml", "root")
    write_policy(tmp_path / "team" / "replylint.yaml", "team")
    write_policy(tmp_path / "team" / "a" / ".replylint.yaml", "a-dot")
    write_policy(tmp_path / "team" / "a" / "replylint.yaml", "a-plain")
    (tmp_path / "team" / "b" / "deep").mkdir(parents=True)
    assert discover_policy(tmp_path / "team" / "a") == PolicyRef(
        str((tmp_path / "team" / "a" / ".replylint.yaml").resolve()))
    assert discover_policy(tmp_path / "team" / "b" / "deep") == PolicyRef(
        str((tmp_path / "team" / "replylint.yaml").resolve()))
    assert discover_policy(tmp_path / "other.txt") == PolicyRef(
        str((tmp_path / ".replylint.yaml").resolve()))
    assert discover_policy(tmp_path / "team" / "b").load().name == "team"


def test_no_config_up_to_the_root_gives_none(tmp_path: Path) -> None:
    if not no_config_above(tmp_path):
        pytest.skip("a config file exists above the temporary directory")
    assert discover_policy(tmp_path) is None


def test_pyproject_pointing_at_a_policy_file(tmp_path: Path) -> None:
    write_policy(tmp_path / "policies" / "brand.yaml", "brand")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.replylint]\npolicy = "policies/brand.yaml"\n')
    (tmp_path / "src").mkdir()
    ref = discover_policy(tmp_path / "src")
    assert ref == PolicyRef(str(tmp_path.resolve() / "policies" / "brand.yaml"))
    assert ref is not None and ref.load().name == "brand"


def test_pyproject_holding_the_policy_as_tables(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.replylint.policy]\nname = "inline"\n\n'
        '[[tool.replylint.rules]]\nid = "refund"\ntype = "pattern"\nseverity = "warning"\n'
        'patterns = ["refund"]\n')
    ref = discover_policy(tmp_path)
    assert ref is not None and ref.table is not None
    policy = ref.load()
    assert (policy.name, [(r.id, r.severity.value) for r in policy.rules]) == (
        "inline", [("refund", "warning")])
    report = Linter(policy).check("Your refund is on its way")
    assert [(v.rule, "Your refund is on its way"[v.start:v.end]) for v in report.violations] == [
        ("refund", "refund")]


def test_pyproject_without_a_replylint_table_is_passed_over(tmp_path: Path) -> None:
    write_policy(tmp_path / ".replylint.yaml", "outer")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_text('[tool.ruff]\nline-length = 100\n')
    assert discover_policy(tmp_path / "pkg") == PolicyRef(
        str((tmp_path / ".replylint.yaml").resolve()))


@pytest.mark.parametrize("toml, message", [
    ("[tool.replylint\n", "1:16: invalid TOML: Expected ']' at the end of a table declaration"),
    ('[tool.replylint]\npolicy = "p.yaml"\nrules = []\n',
     "3:1: tool.replylint: `policy = 'p.yaml'` names a policy file, so rules cannot be set here "
     "too (put them in the policy file, or drop `policy =` and write the policy as "
     "[tool.replylint.policy] and friends)"),
    # regression: said only "expected a mapping", though a path is allowed too
    ("[tool.replylint]\npolicy = 5\n",
     "2:10: tool.replylint.policy: expected the path of a policy file or a table, found 5 (e.g. "
     'policy = "replylint.yaml", or [tool.replylint.policy] with name, extends, language)'),
    ("[tool]\nreplylint = [1]\n",
     "2:13: tool.replylint: expected a table (e.g. [tool.replylint])"),
])
def test_bad_pyproject_is_a_policy_error(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(toml)
    with pytest.raises(PolicyError) as info:
        discover_policy(tmp_path)
    assert [str(i) for i in info.value.issues] == [f"{tmp_path / 'pyproject.toml'}:{message}"]


def table_errors(tmp_path: Path, toml: str) -> list[str]:
    (tmp_path / "pyproject.toml").write_text(toml)
    ref = discover_policy(tmp_path)
    assert ref is not None
    with pytest.raises(PolicyError) as info:
        ref.load()
    return [str(i).replace(str(tmp_path / "pyproject.toml"), "pyproject.toml")
            for i in info.value.issues]


def test_pyproject_table_errors_name_the_field(tmp_path: Path) -> None:
    assert table_errors(
        tmp_path, '[[tool.replylint.rules]]\nid = "x"\ntype = "pattern"\npatterns = []\n'
    ) == ["pyproject.toml:4:12: tool.replylint.rules[0].patterns: must not be empty"]


def test_pyproject_table_errors_point_at_line_and_column(tmp_path: Path) -> None:
    """Regression: errors in [tool.replylint] named the file only, with no line:column."""
    toml = (
        '[project]\n'                                               # 1
        'name = "x"\n'                                              # 2
        'keywords = ["a",\n'                                        # 3
        '  "[tool.replylint]"]  # not a header\n'                   # 4
        '\n'                                                        # 5
        '[tool.replylint]\n'                                        # 6
        'setting = {tone = "warm"}\n'                               # 7
        '\n'                                                        # 8
        '[tool.replylint.policy]\n'                                 # 9
        'name = """multi\n'                                         # 10
        'line"""\n'                                                 # 11
        'colour = "red"\n'                                          # 12
        '\n'                                                        # 13
        '[[tool.replylint.rules]]\n'                                # 14
        'id = "ok"\n'                                               # 15
        'type = "pattern"\n'                                        # 16
        'patterns = ["ok"]\n'                                       # 17
        '\n'                                                        # 18
        '[[tool.replylint.rules]]\n'                                # 19
        'id = "refund"\n'                                           # 20
        'type = "pattern"\n'                                        # 21
        'severty = "warning"\n'                                     # 22
        'patterns = [\'refund\', "(unclosed"]\n'                    # 23
        'examples.fail = [1]\n'                                     # 24
        '\n'                                                        # 25
        '[[tool.replylint.rules]]\n'                                # 26
        'id = "inline"\n'                                           # 27
        'type = "pattern"\n'                                        # 28
    )
    assert table_errors(tmp_path, toml) == [
        "pyproject.toml:7:1: tool.replylint.setting: unknown top-level key 'setting' (did you "
        "mean 'settings'? allowed: policy, settings, rules)",
        "pyproject.toml:12:1: tool.replylint.policy.colour: unknown key 'colour' (allowed: name, "
        "extends, language, description)",
        "pyproject.toml:22:1: tool.replylint.rules[1].severty: unknown option 'severty' (did you "
        "mean 'severity'? allowed: id, type, severity, message, why, suggestions, suppressible, "
        "channels, examples, patterns, ignore_case, normalize, exceptions, redact)",
        "pyproject.toml:23:23: tool.replylint.rules[1].patterns[1]: invalid regular expression: "
        "missing ) at position 9 (see the `regex` module syntax)",
        "pyproject.toml:24:18: tool.replylint.rules[1].examples.fail[0]: an example is text or a "
        "mapping with `text` and `context`, found 1",
        "pyproject.toml:26:1: tool.replylint.rules[2]: missing required option 'patterns' "
        "(patterns: Regular expressions; a match anywhere is a violation.)",
    ]


def test_pyproject_inline_tables_are_located_too(tmp_path: Path) -> None:
    toml = (
        '[tool.replylint]\n'
        'policy.name = 3\n'
        'rules = [\n'
        '  {id = "a", type = "pattern", patterns = ["a"]},\n'
        '  {id = "b", type = "pattern", patterns = ["(b"], inflect = true},\n'
        ']\n'
    )
    assert table_errors(tmp_path, toml) == [
        "pyproject.toml:2:15: tool.replylint.policy.name: expected text, found 3",
        "pyproject.toml:5:44: tool.replylint.rules[1].patterns[0]: invalid regular expression: "
        "missing ) at position 2 (see the `regex` module syntax)",
        "pyproject.toml:5:51: tool.replylint.rules[1].inflect: unknown option 'inflect' (allowed: "
        "id, type, severity, message, why, suggestions, suppressible, channels, examples, "
        "patterns, ignore_case, normalize, exceptions, redact)",
    ]


def test_pyproject_errors_keep_the_file_alone_when_the_key_cannot_be_found(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def lost(self: object) -> None:
        raise ValueError("not followed")

    monkeypatch.setattr(config._TomlScanner, "document", lost)
    assert table_errors(
        tmp_path, '[[tool.replylint.rules]]\nid = "x"\ntype = "pattern"\npatterns = []\n'
    ) == ["pyproject.toml: tool.replylint.rules[0].patterns: must not be empty"]


def test_resolver_compiles_once_per_config_file(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    write_policy(tmp_path / ".replylint.yaml", "root")
    (tmp_path / "a").mkdir()
    calls: list[str] = []
    real = PolicyRef.load

    def counting(self: PolicyRef) -> object:
        calls.append(self.spec)
        return real(self)

    monkeypatch.setattr(PolicyRef, "load", counting)
    resolver = PolicyResolver(cwd=tmp_path)
    linters = [resolver.linter(resolver.ref_for(name))
               for name in ("x.txt", "y.txt", "a/z.txt", "-")]
    assert all(linter is linters[0] for linter in linters)
    assert calls == [str((tmp_path / ".replylint.yaml").resolve())]


def test_resolver_caches_policy_errors(tmp_path: Path) -> None:
    (tmp_path / ".replylint.yaml").write_text("rules: 3\n")
    resolver = PolicyResolver(cwd=tmp_path)
    ref = resolver.ref_for("a.txt")
    with pytest.raises(PolicyError) as first:
        resolver.linter(ref)
    with pytest.raises(PolicyError) as second:
        resolver.linter(ref)
    assert first.value is second.value
    assert str(first.value).endswith(".replylint.yaml:1:8: rules: expected a list of rules, "
                                     "found 3")


def test_explicit_policy_overrides_discovery(tmp_path: Path) -> None:
    write_policy(tmp_path / ".replylint.yaml", "discovered")
    chosen = write_policy(tmp_path / "chosen.yaml", "chosen")
    resolver = PolicyResolver(str(chosen), cwd=tmp_path)
    assert resolver.linter(resolver.ref_for("a.txt")).policy.name == "chosen"


def test_default_pack_when_nothing_is_found(tmp_path: Path) -> None:
    if not no_config_above(tmp_path):
        pytest.skip("a config file exists above the temporary directory")
    assert PolicyResolver(cwd=tmp_path).ref_for("a.txt") == PolicyRef(config.DEFAULT_POLICY)


# --------------------------------------------------------------------------- selection

RULES = """
policy: {name: sel}
rules:
  - {id: trading-advice, type: pattern, patterns: ['\\bbuy\\b']}
  - {id: trading-advice-extra, type: pattern, patterns: ['\\bsell\\b']}
  - {id: signature, type: pattern, severity: warning, patterns: ['\\bthanks\\b']}
  - {id: promise, type: pattern, severity: off, patterns: ['x']}
"""


def test_selection_parses_repeated_and_comma_separated_values() -> None:
    assert Selection.parse(["a,b", " c ", "a"], ["d,,e"]) == Selection(("a", "b", "c"), ("d", "e"))
    assert not Selection.parse(None, [])


@pytest.mark.parametrize("select, ignore, kept", [
    ([], [], ["trading-advice", "trading-advice-extra", "signature"]),
    (["trading-advice"], [], ["trading-advice"]),
    (["trading-advice.price-target"], [], ["trading-advice"]),
    ([], ["trading-advice"], ["trading-advice-extra", "signature"]),
    (["signature,trading-advice-extra"], ["signature"], ["trading-advice-extra"]),
    (["promise"], [], []),
])
def test_selection_by_id_prefix_and_sub_id(select: list[str], ignore: list[str],
                                           kept: list[str]) -> None:
    policy = load_policy_text(RULES)
    selected = Selection.parse(select, ignore).apply(policy)
    assert [r.id for r in selected.rules] == kept


def test_unknown_rule_is_a_usage_error_listing_known_ids() -> None:
    with pytest.raises(UsageError) as info:
        Selection.parse(["tradng-advice"], None).apply(load_policy_text(RULES))
    assert str(info.value) == ("--select: unknown rule 'tradng-advice' in policy 'sel'; known "
                               "rules: trading-advice, trading-advice-extra, signature, promise")


def test_sub_id_selection_filters_violations_and_the_decision_follows() -> None:
    from replylint.model import Decision, Report, Severity, Violation

    def violation(rule: str, severity: Severity) -> Violation:
        return Violation(rule, severity, "m", 0, 1, 1, 1, 1, 2, "x")

    report = Report(Decision.BLOCK, (violation("trading-advice.price-target", Severity.WARNING),
                                     violation("trading-advice.guarantee", Severity.ERROR)),
                    "p", "h")
    kept = Selection.parse(["trading-advice.price-target"], None).filter(report)
    assert [v.rule for v in kept.violations] == ["trading-advice.price-target"]
    assert kept.decision is Decision.WARN
    dropped = Selection.parse(None, ["trading-advice.price-target"]).filter(report)
    assert [v.rule for v in dropped.violations] == ["trading-advice.guarantee"]
    assert Selection().filter(report) is report
