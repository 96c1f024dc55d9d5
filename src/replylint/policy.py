"""YAML policy -> validated, compiled `Policy`. Every problem carries file:line:column.

Loading collects ALL problems of a policy (and of the files it extends) before raising one
`PolicyError`, so a user fixes their file in one pass, not one error per run.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import regex

from .checks import RULE_TYPES
from .checks.base import Check, CompileContext
from .errors import PolicyError, PolicyIssue
from .literals import LiteralPool
from .model import Context, Severity
from .options import OptionPath, OptionProblem, convert, found, unknown_key_hint, validate
from .yamlsource import Path_, Source, dotted, load_yaml

RULE_ID = regex.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*$")
TOP_KEYS = ("policy", "settings", "rules")
POLICY_KEYS = ("name", "extends", "language", "description")
COMMON_KEYS = (
    "id",
    "type",
    "severity",
    "message",
    "why",
    "suggestions",
    "suppressible",
    "channels",
    "examples",
)
SEVERITIES = ("error", "warning", "info", "off")
LANGUAGES = ("en",)
MAX_POLICY_BYTES = 5_000_000


@dataclass(frozen=True)
class Example:
    """A text a rule must flag (`expect="fail"`) or must leave alone (`expect="pass"`)."""

    text: str
    expect: str
    context: Context
    path: str
    line: int | None


@dataclass(frozen=True)
class Rule:
    """A compiled rule: its settings from the policy plus the compiled check."""

    id: str
    type: str
    severity: Severity
    message: str
    check: Check = field(repr=False, compare=False)
    why: str | None = None
    suggestions: tuple[str, ...] = ()
    suppressible: bool = True
    channels: tuple[str, ...] | None = None
    examples: tuple[Example, ...] = ()
    path: str = ""
    line: int | None = None
    options: Any = field(default=None, repr=False, compare=False)

    def applies(self, context: Context) -> bool:
        return self.channels is None or (context.channel or "") in self.channels


@dataclass(frozen=True)
class Policy:
    """A compiled policy: immutable, shareable between threads, hashed for audit."""

    name: str
    rules: tuple[Rule, ...]
    settings: Mapping[str, Any]
    hash: str
    language: str = "en"
    sources: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def select(
        self, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None
    ) -> Policy:
        """A policy with only the selected rules (ids or prefixes: `trading-advice` takes its
        sub-ids too), minus the ignored ones."""
        sel = tuple(select or ())
        ign = tuple(ignore or ())
        rules = tuple(
            r
            for r in self.rules
            if (not sel or any(id_matches(r.id, s) for s in sel))
            and not any(id_matches(r.id, i) for i in ign)
        )
        return replace(self, rules=rules)


def id_matches(rule_id: str, pattern: str) -> bool:
    """`trading-advice` selects itself and `trading-advice.price-target`, not `trading-advices`."""
    return rule_id == pattern or rule_id.startswith(pattern + ".")


# --------------------------------------------------------------------------- locating packs


def packs_dir() -> Path:
    """Where the shipped packs live: inside the installed package, or `rules/` of a checkout."""
    installed = resources.files("replylint") / "rules"
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parents[2] / "rules"


def available_packs() -> list[str]:
    return sorted(p.stem for p in packs_dir().glob("*.yaml"))


# --------------------------------------------------------------------------- loading


@dataclass
class _Field:
    value: Any
    source: Source
    path: Path_
    layer: int = 0  # which loaded file set it, in load order: extended files come first


@dataclass
class _RuleLayers:
    fields: dict[str, _Field]
    source: Source
    path: Path_


class _Loader:
    def __init__(self) -> None:
        self.issues: list[PolicyIssue] = []
        self.sources: list[str] = []
        self.rules: dict[str, _RuleLayers] = {}
        self.duplicates: list[tuple[str, _RuleLayers]] = []  # checked, never built
        self.settings: dict[str, _Field] = {}
        self.name: str | None = None
        self.language = "en"
        self.layers = 0

    # A file is read at most once per stack to catch cycles; diamonds are allowed.
    def load_ref(
        self, ref: str, base: Path, stack: tuple[str, ...], origin: tuple[Source, Path_] | None
    ) -> None:
        if ref.startswith("pack:"):
            pack = ref[5:]
            path = packs_dir() / f"{pack}.yaml"
            if not path.is_file():
                self._issue_at(
                    origin,
                    f"unknown pack {ref!r}",
                    "available: " + ", ".join(f"pack:{p}" for p in available_packs()),
                    ref,
                )
                return
            display = f"pack:{pack}"
        else:
            path = (base / ref).resolve() if not Path(ref).is_absolute() else Path(ref)
            display = _display(path)
            if not path.is_file():
                self._issue_at(origin, f"file not found: {ref}", f"looked for {path}", ref)
                return
        key = str(path.resolve())
        if key in stack:
            chain = " -> ".join([*(_display(Path(s)) for s in stack), _display(path)])
            self._issue_at(origin, f"extends cycle: {chain}", "remove one of the extends", ref)
            return
        try:
            raw = path.read_bytes()
        except OSError as exc:
            self._issue_at(origin, f"cannot read {display}: {exc.strerror}", None, ref)
            return
        text = _decode(raw, display, self.issues)
        if text is None:
            return
        self.load_text(text, display, path.parent, stack + (key,))

    def _issue_at(
        self, origin: tuple[Source, Path_] | None, message: str, hint: str | None, ref: str
    ) -> None:
        if origin is None:
            self.issues.append(PolicyIssue(ref, None, None, "", message, hint))
        else:
            src, p = origin
            self.issues.append(src.issue(p, message, hint=hint))

    def load_text(self, text: str, display: str, base: Path, stack: tuple[str, ...]) -> None:
        source, issues = load_yaml(text, display)
        self.issues.extend(issues)
        if issues:
            return
        self.load_source(source, base, stack)

    def load_source(self, source: Source, base: Path, stack: tuple[str, ...]) -> None:
        self.sources.append(source.path)
        data = source.data
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.issues.append(
                source.issue(
                    (),
                    f"a policy is a mapping with keys {', '.join(TOP_KEYS)}; found {found(data)}",
                )
            )
            return
        for key in data:
            if key not in TOP_KEYS:
                self.issues.append(
                    source.issue(
                        (key,),
                        f"unknown top-level key {key!r}",
                        hint=unknown_key_hint(key, TOP_KEYS),
                        key=True,
                    )
                )
        meta = data.get("policy") or {}
        if not isinstance(meta, dict):
            self.issues.append(
                source.issue(("policy",), f"expected a mapping, found {found(meta)}")
            )
            meta = {}
        for key in meta:
            if key not in POLICY_KEYS:
                self.issues.append(
                    source.issue(
                        ("policy", key),
                        f"unknown key {key!r}",
                        hint=unknown_key_hint(key, POLICY_KEYS),
                        key=True,
                    )
                )
        extends = meta.get("extends", [])
        if isinstance(extends, str):
            extends = [extends]
            ext_paths: list[Path_] = [("policy", "extends")]
        elif isinstance(extends, list):
            ext_paths = [("policy", "extends", i) for i in range(len(extends))]
        else:
            self.issues.append(
                source.issue(
                    ("policy", "extends"),
                    f"expected a file or pack name or a list of them, found {found(extends)}",
                )
            )
            extends, ext_paths = [], []
        for ref, p in zip(extends, ext_paths, strict=False):
            if not isinstance(ref, str) or not ref.strip():
                self.issues.append(
                    source.issue(
                        p,
                        f"expected a file or pack name, found {found(ref)}",
                        hint="e.g. pack:default",
                    )
                )
                continue
            self.load_ref(ref.strip(), base, stack, (source, p))
        if "name" in meta:
            if isinstance(meta["name"], str) and meta["name"].strip():
                self.name = meta["name"].strip()
            else:
                self.issues.append(
                    source.issue(("policy", "name"), f"expected text, found {found(meta['name'])}")
                )
        if "language" in meta:
            if meta["language"] in LANGUAGES:
                self.language = meta["language"]
            else:
                self.issues.append(
                    source.issue(
                        ("policy", "language"),
                        f"unsupported language {found(meta['language'])}",
                        hint="supported: " + ", ".join(LANGUAGES),
                    )
                )
        settings = data.get("settings", {})
        if settings is None:
            settings = {}
        if not isinstance(settings, dict):
            self.issues.append(
                source.issue(("settings",), f"expected a mapping, found {found(settings)}")
            )
        else:
            for key, value in settings.items():
                if not isinstance(value, (str, int, float, bool)):
                    self.issues.append(
                        source.issue(
                            ("settings", key),
                            f"expected text, a number or true/false, found {found(value)}",
                        )
                    )
                    continue
                self.settings[key] = _Field(value, source, ("settings", key))
        rules = data.get("rules", [])
        if rules is None:
            rules = []
        if not isinstance(rules, list):
            self.issues.append(
                source.issue(("rules",), f"expected a list of rules, found {found(rules)}")
            )
            return
        self.layers += 1  # after the extended files: this file overrides them
        seen: set[str] = set()
        for i, item in enumerate(rules):
            self._merge_rule(source, ("rules", i), item, seen, self.layers)

    def _merge_rule(
        self, source: Source, path: Path_, item: Any, seen: set[str], layer: int
    ) -> None:
        if not isinstance(item, dict):
            self.issues.append(
                source.issue(path, f"a rule is a mapping with at least `id`, found {found(item)}")
            )
            return
        rule_id = item.get("id")
        if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
            shown = "nothing" if rule_id is None else found(rule_id)
            self.issues.append(
                source.issue(
                    path + ("id",) if "id" in item else path,
                    f"rule id must be kebab-case (sub-ids after a dot), found {shown}",
                    hint="e.g. trading-advice or trading-advice.price-target",
                    field_name=dotted(path + ("id",)),
                )
            )
            return
        fields = {k: _Field(v, source, path + (k,), layer) for k, v in item.items()}
        if rule_id in seen:
            self.issues.append(
                source.issue(
                    path + ("id",),
                    f"duplicate rule id {rule_id!r}",
                    hint="each rule id may appear once per file; "
                    "override it in a file that extends this one",
                )
            )
            # Still checked, as the override it would be in a file that extends this one, so
            # the duplicate id does not hide the rule's other problems; then dropped.
            self.duplicates.append((rule_id, self._layered(rule_id, fields, source, path)))
            return
        seen.add(rule_id)
        self.rules[rule_id] = self._layered(rule_id, fields, source, path)

    def _layered(
        self, rule_id: str, fields: dict[str, _Field], source: Source, path: Path_
    ) -> _RuleLayers:
        """Rule `rule_id` with `fields` laid over what earlier policies said about it."""
        existing = self.rules.get(rule_id)
        if existing is None:
            return _RuleLayers(fields, source, path)
        new_type = fields.get("type")
        old_type = existing.fields.get("type")
        if new_type is not None and old_type is not None and new_type.value != old_type.value:
            # A different rule type means different options: replace, do not merge.
            return _RuleLayers(fields, source, path)
        return _RuleLayers({**existing.fields, **fields}, source, path)

    # ----------------------------------------------------------------------- compiling

    def compile(self, default_name: str) -> Policy:
        settings = {k: f.value for k, f in self.settings.items()}
        rules: list[Rule] = []
        disabled: list[str] = []
        pools: dict[str, LiteralPool] = {}
        switched_off = self._switched_off()
        for rule_id, layers in self.rules.items():
            rule = self._compile_rule(
                rule_id, layers, settings, pools, switched_off=rule_id in switched_off
            )
            if rule == "off":
                disabled.append(rule_id)
            elif rule is not None:
                rules.append(rule)  # type: ignore[arg-type]
        for rule_id, layers in self.duplicates:
            self._compile_rule(rule_id, layers, settings, pools)
        if self.issues:
            # An override checked with the fields it inherits may repeat their problems.
            issues = list(dict.fromkeys(self.issues))
            order = {src: i for i, src in enumerate(dict.fromkeys(i.path for i in issues))}
            raise PolicyError(
                sorted(issues, key=lambda i: (order[i.path], i.line or 0, i.column or 0))
            )
        for pool in pools.values():
            pool.freeze()
        name = self.name or default_name
        digest = hashlib.sha256(
            json.dumps(
                {
                    "name": name,
                    "language": self.language,
                    "settings": settings,
                    "rules": {
                        rid: {k: f.value for k, f in layer.fields.items()}
                        for rid, layer in self.rules.items()
                    },
                },
                sort_keys=True,
                default=str,
                ensure_ascii=False,
            ).encode()
        ).hexdigest()
        return Policy(
            name=name,
            rules=tuple(rules),
            settings=settings,
            hash=digest[:16],
            language=self.language,
            sources=tuple(dict.fromkeys(self.sources)),
            disabled=tuple(disabled),
        )

    def _switched_off(self) -> set[str]:
        """Sub-ids turned off by `severity: off` on an id above them (`a` off turns `a.b` off).

        Among a rule and the ids above it, the severity set by the latest file decides; in one
        file the most specific id decides, so `a` off with `a.b: warning` keeps `a.b` on.
        """
        out: set[str] = set()
        for rule_id in self.rules:
            parts = rule_id.split(".")
            decided: tuple[int, int, Any] | None = None  # (layer, depth, severity)
            for depth in range(len(parts), 0, -1):
                layers = self.rules.get(".".join(parts[:depth]))
                severity = layers.fields.get("severity") if layers else None
                if severity is not None and (decided is None or severity.layer > decided[0]):
                    decided = (severity.layer, depth, severity.value)
            if decided is not None and decided[1] < len(parts) and decided[2] == "off":
                out.add(rule_id)
        return out

    def _compile_rule(
        self,
        rule_id: str,
        layers: _RuleLayers,
        settings: Mapping[str, Any],
        pools: dict[str, LiteralPool],
        *,
        switched_off: bool = False,
    ) -> Rule | str | None:
        f = layers.fields
        start = len(self.issues)

        def problem(key: str, message: str, hint: str | None = None) -> None:
            fld = f.get(key)
            if fld is None:
                self.issues.append(
                    layers.source.issue(
                        layers.path, message, hint=hint, field_name=dotted(layers.path + (key,))
                    )
                )
            else:
                self.issues.append(fld.source.issue(fld.path, message, hint=hint))

        severity_raw = f["severity"].value if "severity" in f else "error"
        if severity_raw not in SEVERITIES:
            problem(
                "severity",
                f"expected one of {', '.join(SEVERITIES)}, found {found(severity_raw)}",
                "use off to turn a rule off"
                if severity_raw is False
                else None,
            )
            severity_raw = "error"  # keep validating the rest of the rule
        if switched_off:
            severity_raw = "off"
        common: dict[str, Any] = {}
        for key, tp in (
            ("message", str),
            ("why", str),
            ("suggestions", list[str]),
            ("suppressible", bool),
            ("channels", list[str]),
        ):
            if key in f:
                problems: list[OptionProblem] = []
                value = convert(tp, f[key].value, (), problems)
                for p in problems:
                    self.issues.append(
                        f[key].source.issue(f[key].path + p.path, p.message, hint=p.hint)
                    )
                common[key] = value
        message = common.get("message") or f"{rule_id}: '{{match}}'"
        if "message" in f and isinstance(common.get("message"), str):
            _check_template(common["message"], lambda m, h=None: problem("message", m, h))
        for s in common.get("suggestions") or ():
            if isinstance(s, str):
                _check_template(s, lambda m, h=None: problem("suggestions", m, h))
        examples = self._examples(f.get("examples"))
        type_name = f["type"].value if "type" in f else None
        if type_name is None:
            if severity_raw == "off":
                return "off"
            problem(
                "type",
                f"rule {rule_id!r} has no `type` and overrides no earlier rule",
                "allowed types: " + ", ".join(RULE_TYPES),
            )
            return None
        rule_type = RULE_TYPES.get(type_name) if isinstance(type_name, str) else None
        if rule_type is None:
            problem(
                "type", f"unknown rule type {found(type_name)}", "allowed: " + ", ".join(RULE_TYPES)
            )
            return None
        option_data = {k: fld.value for k, fld in f.items() if k not in COMMON_KEYS}
        option_fields = {k: fld for k, fld in f.items() if k not in COMMON_KEYS}
        problems = []
        opts = validate(rule_type.options, option_data, (), problems, known=COMMON_KEYS)
        for p in problems:
            head = p.path[0] if p.path else None
            fld = option_fields.get(head) if isinstance(head, str) else None
            if fld is None:
                self.issues.append(
                    layers.source.issue(
                        layers.path, p.message, hint=p.hint, field_name=dotted(layers.path + p.path)
                    )
                )
            else:
                self.issues.append(
                    fld.source.issue(fld.path + p.path[1:], p.message, hint=p.hint, key=p.key)
                )
        if severity_raw == "off":
            return "off"
        if opts is None:
            return None
        # Compiled even when other keys of the rule are wrong, so a bad regex shows up now.

        def report(path: OptionPath, msg: str, hint: str | None) -> None:
            head = path[0] if path else None
            fld = option_fields.get(head) if isinstance(head, str) else None
            if fld is None:
                self.issues.append(
                    layers.source.issue(
                        layers.path, msg, hint=hint, field_name=dotted(layers.path + path)
                    )
                )
            else:
                self.issues.append(fld.source.issue(fld.path + path[1:], msg, hint=hint))

        check = rule_type.compile(opts, CompileContext(rule_id, settings, report, pools))
        if check is None or len(self.issues) > start:
            if check is None and len(self.issues) == start:
                self.issues.append(
                    layers.source.issue(
                        layers.path, "rule could not be compiled", field_name=dotted(layers.path)
                    )
                )
            return None
        line, _ = layers.source.where(layers.path)
        return Rule(
            id=rule_id,
            type=type_name,
            severity=Severity(severity_raw),
            message=message,
            check=check,
            why=common.get("why"),
            suggestions=tuple(common.get("suggestions") or ()),
            suppressible=common.get("suppressible", True),
            channels=tuple(common["channels"]) if common.get("channels") else None,
            examples=examples,
            path=layers.source.path,
            line=line,
            options=opts,
        )

    def _examples(self, fld: _Field | None) -> tuple[Example, ...]:
        if fld is None:
            return ()
        if not isinstance(fld.value, dict):
            self.issues.append(
                fld.source.issue(
                    fld.path,
                    f"expected a mapping with `fail` and/or `pass` lists, found {found(fld.value)}",
                )
            )
            return ()
        out: list[Example] = []
        for key, items in fld.value.items():
            if key not in ("fail", "pass"):
                self.issues.append(
                    fld.source.issue(
                        fld.path + (key,),
                        f"unknown key {key!r}",
                        hint=unknown_key_hint(key, ("fail", "pass")),
                        key=True,
                    )
                )
                continue
            if not isinstance(items, list):
                self.issues.append(
                    fld.source.issue(fld.path + (key,), f"expected a list, found {found(items)}")
                )
                continue
            for i, item in enumerate(items):
                p = fld.path + (key, i)
                line, _ = fld.source.where(p)
                if isinstance(item, str):
                    out.append(Example(item, key, Context(), fld.source.path, line))
                elif (
                    isinstance(item, dict)
                    and isinstance(item.get("text"), str)
                    and set(item) <= {"text", "context"}
                    and isinstance(item.get("context", {}), dict)
                ):
                    out.append(
                        Example(
                            item["text"],
                            key,
                            Context.from_mapping(item.get("context")),
                            fld.source.path,
                            line,
                        )
                    )
                elif isinstance(item, dict) and set(item) - {"text", "context"}:
                    for extra in item:
                        if extra not in ("text", "context"):
                            self.issues.append(
                                fld.source.issue(
                                    p + (extra,),
                                    f"unknown key {extra!r}",
                                    hint=unknown_key_hint(extra, ("text", "context")),
                                    key=True,
                                )
                            )
                else:
                    self.issues.append(
                        fld.source.issue(
                            p,
                            f"an example is text or a mapping with `text` and `context`, "
                            f"found {found(item)}",
                        )
                    )
        return tuple(out)


def _check_template(template: str, report: Any) -> None:
    try:
        for _, name, _spec, _ in string.Formatter().parse(template):
            if name is not None and (not name or not name.isidentifier()):
                report(
                    f"placeholder {{{name}}} is not a name",
                    "use {match}, {rule}, a context field or a named group; "
                    "write {{ and }} for literal braces",
                )
    except ValueError as exc:
        report(f"malformed message template: {exc}", "write {{ and }} for literal braces")


def _decode(raw: bytes, display: str, issues: list[PolicyIssue]) -> str | None:
    if len(raw) > MAX_POLICY_BYTES:
        issues.append(
            PolicyIssue(
                display,
                None,
                None,
                "",
                f"policy file is larger than {MAX_POLICY_BYTES // 1_000_000} MB",
            )
        )
        return None
    if b"\x00" in raw:
        issues.append(PolicyIssue(display, None, None, "", "binary file, not a YAML policy"))
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        issues.append(
            PolicyIssue(
                display,
                line,
                None,
                "",
                f"not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            )
        )
        return None


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- public entry points

PolicyLike = "Policy | str | Path | Mapping[str, Any] | None"


def load_policy(policy: Policy | str | Path | Mapping[str, Any] | None = None) -> Policy:
    """Load and compile a policy: a path, `pack:NAME`, a mapping, or None for `pack:default`.

    Raises `PolicyError` listing every problem found, each with file:line:column.
    """
    if isinstance(policy, Policy):
        return policy
    loader = _Loader()
    if policy is None:
        policy = "pack:default"
    if isinstance(policy, Mapping):
        source = Source("<policy>", dict(policy))
        loader.load_source(source, Path.cwd(), ())
        return loader.compile("policy")
    ref = str(policy)
    loader.load_ref(ref, Path.cwd(), (), None)
    default_name = ref[5:] if ref.startswith("pack:") else Path(ref).stem
    return loader.compile(default_name)


def load_policy_text(text: str, path: str = "<string>", base: Path | None = None) -> Policy:
    """Compile a policy given as YAML text; `extends` resolves relative to `base` (or cwd)."""
    loader = _Loader()
    loader.load_text(text, path, base or Path.cwd(), ())
    return loader.compile(Path(path).stem if path != "<string>" else "policy")


def load_policy_mapping(data: Mapping[str, Any], path: str, base: Path) -> Policy:
    """Compile a policy given as an already-parsed mapping (e.g. pyproject's [tool.replylint])."""
    return load_policy_source(Source(path, dict(data)), base)


def load_policy_source(source: Source, base: Path) -> Policy:
    """Compile a parsed policy whose `source` knows where its values are (or None of them)."""
    loader = _Loader()
    loader.load_source(source, base, (str(Path(source.path).resolve()),))
    return loader.compile(Path(source.path).parent.name or "policy")
