"""SARIF 2.1.0, for GitHub code scanning and other static-analysis dashboards.

Drafts get a region with file lines and code-point columns (`columnKind: unicodeCodePoints`,
`endColumn` exclusive) plus `charOffset`/`charLength` in the file. Archive records get the
record's line and a `record` property. Inputs that could not be read become tool execution
notifications and make `executionSuccessful` false.

Every artifact location, of a result or of a notification, is written the same way: a path
inside the working directory is a relative URI with `uriBaseId: %SRCROOT%`, and the run's
`originalUriBaseIds` gives `%SRCROOT%` as the working directory's absolute `file:` URI (as SARIF
2.1.0 §3.14.14 recommends, so code scanning resolves it against the repository); a path outside
it is an absolute `file:` URI; standard input has no URI, only a description.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..checks import RULE_TYPES
from ..policy import Rule
from .base import Formatter, Result, Summary, file_position

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
ROOT = "%SRCROOT%"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


class SarifFormatter(Formatter):
    streams = False

    def begin(self) -> None:
        self._root = Path.cwd()
        self._rules: dict[str, dict[str, Any]] = {}
        self._results: list[dict[str, Any]] = []
        self._notifications: list[dict[str, Any]] = []

    def result(self, result: Result) -> None:
        item = result.item
        if result.policy is not None:
            for rule in result.policy.rules:
                self._rules.setdefault(rule.id, rule_descriptor(rule))
        if result.report is None:
            assert result.error is not None
            self._notifications.append({
                "level": "error", "message": {"text": str(result.error)},
                "locations": [self._location(item.source, {"startLine": result.error.line}
                                             if result.error.line else None)]})
            return
        for v in result.violations:
            rule_id = v.rule
            if rule_id not in self._rules:
                parent = self._rules.get(rule_id.split(".")[0])
                self._rules[rule_id] = {**(parent or {}), "id": rule_id}
            pos = file_position(item, v)
            if pos is None:
                region: dict[str, Any] = {"startLine": item.body_line}
            else:
                line, col, end_line, end_col = pos
                region = {"startLine": line, "startColumn": col, "endLine": end_line,
                          "endColumn": end_col, "charOffset": item.body_offset + v.start,
                          "charLength": v.end - v.start}
            out: dict[str, Any] = {
                "ruleId": rule_id,
                "level": LEVELS[v.severity.value],
                "message": {"text": v.message},
                "locations": [self._location(item.source, region)],
                "partialFingerprints": {"replylint/v1": _fingerprint(item.source, item.id, v.rule,
                                                                     v.matched)},
            }
            if item.kind == "record":
                out["properties"] = {"record": item.id}
            if v.suggestions:
                out.setdefault("properties", {})["suggestions"] = list(v.suggestions)
            self._results.append(out)

    def end(self, summary: Summary) -> None:
        rules = list(self._rules.values())
        index = {r["id"]: i for i, r in enumerate(rules)}
        for res in self._results:
            res["ruleIndex"] = index[res["ruleId"]]
        run: dict[str, Any] = {
            "tool": {"driver": {"name": "replylint", "version": __version__,
                                "semanticVersion": __version__, "rules": rules}},
            "invocations": [{"executionSuccessful": not self._notifications,
                             "toolExecutionNotifications": self._notifications}],
            "originalUriBaseIds": {ROOT: {"uri": directory_uri(self._root)}},
            "columnKind": "unicodeCodePoints",
            "results": self._results,
        }
        doc = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
        json.dump(doc, self.out, ensure_ascii=False, indent=2)
        self.out.write("\n")
        self.side_statistics(summary)

    def _location(self, source: str, region: dict[str, Any] | None) -> dict[str, Any]:
        physical: dict[str, Any] = {"artifactLocation": artifact_location(source, self._root)}
        if region:
            physical["region"] = region
        return {"physicalLocation": physical}


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    """A SARIF reportingDescriptor: what the rule flags (short) and why (full)."""
    summary = RULE_TYPES[rule.type].summary if rule.type in RULE_TYPES else ""
    why = rule.why or summary
    short = _first_sentence(why) or rule.id
    out: dict[str, Any] = {
        "id": rule.id,
        "shortDescription": {"text": short},
        "fullDescription": {"text": why or short},
        "defaultConfiguration": {"level": LEVELS[rule.severity.value]},
        "properties": {"type": rule.type, "tags": [rule.type]},
    }
    if rule.suggestions:
        out["help"] = {"text": "\n".join(rule.suggestions)}
    return out


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    cut = text.find(". ")
    return text[:cut + 1] if cut >= 0 else text


def artifact_location(source: str, root: Path) -> dict[str, Any]:
    """A SARIF artifactLocation: relative to `root` (the `%SRCROOT%` base) when the file is in
    it, else an absolute `file:` URI; standard input has no URI."""
    if source == "-":
        return {"description": {"text": "standard input"}}
    path = Path(os.path.normpath(root / source))  # lexical: `..` is resolved, links are not
    try:
        inside = path.relative_to(root)
    except ValueError:
        return {"uri": path.as_uri()}
    # Bytes, so that a name that is not UTF-8 is percent-encoded as the bytes it is on disk.
    return {"uri": quote(os.fsencode(inside.as_posix()), safe="/"), "uriBaseId": ROOT}


def directory_uri(directory: Path) -> str:
    """The `file:` URI of a directory, ending in `/` as a base URI must."""
    uri = directory.as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _fingerprint(*parts: object) -> str:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
