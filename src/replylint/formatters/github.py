"""GitHub Actions workflow commands: one `::error file=...::message` annotation per violation.

Severities map to `error`, `warning` and `notice`. Values are escaped as the Actions toolkit
does: `%`, CR and LF everywhere, and also `:` and `,` inside properties.
"""

from __future__ import annotations

from ..model import Violation
from .base import Formatter, Result, Summary, file_position

LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, **props: str | int | None) -> str:
    shown = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v is not None)
    return f"::{level} {shown}::{escape_data(message)}" if shown else \
        f"::{level}::{escape_data(message)}"


class GithubFormatter(Formatter):
    def result(self, result: Result) -> None:
        item = result.item
        if result.report is None:
            assert result.error is not None
            print(annotation("error", str(result.error), file=_file(item.source),
                             line=result.error.line, title="replylint: input error"),
                  file=self.out)
            return
        for v in result.violations:
            print(self._violation(result, v), file=self.out)

    def _violation(self, result: Result, v: Violation) -> str:
        item = result.item
        level = LEVELS[v.severity.value]
        message = v.message + "".join(f"\nsuggestion: {s}" for s in v.suggestions)
        pos = file_position(item, v)
        if pos is None:
            return annotation(level, f"record {item.id}: {message}", file=_file(item.source),
                              line=item.body_line, title=v.rule)
        line, col, end_line, end_col = pos
        # GitHub reads endColumn as the last column, and ignores columns across lines.
        last = max(col, end_col - 1)
        same = line == end_line
        return annotation(level, message, file=_file(item.source), line=line,
                          col=col if same else None, endLine=end_line,
                          endColumn=last if same else None, title=v.rule)

    def end(self, summary: Summary) -> None:
        self.side_statistics(summary)
        print(summary.line(), file=self.out)


def _file(source: str) -> str | None:
    return None if source == "-" else source.replace("\\", "/")
