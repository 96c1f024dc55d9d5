"""One JSON document: `{"version": 1, "results": [...], "summary": {...}}`.

Each result has `source`, `id`, `kind` (`draft`, `record`, or `file` for an error about a whole
archive or directory; see `inputs.Item`), `body_line` (the file line where
the reply starts: after the front matter for drafts, the record's line for archives),
`body_offset` (drafts: the character offset of the reply in the file), then `decision`, `ok`,
`policy`, `policy_hash`, `violations` and `suppressed`, or `error` (`message`, `line`) when the
reply could not be checked. A violation is `Violation.to_dict()`: `start`/`end`/`line`/`column`
point into the reply text; drafts add `file_line`, `file_column`, `file_end_line` and
`file_end_column` for the same span in the file. With `--statistics` the document also has a
`statistics` object. Results are written as they come, so memory stays flat.
"""

from __future__ import annotations

import json

from .base import Formatter, Result, Summary, result_dict

VERSION = 1


class JsonFormatter(Formatter):
    streams = False

    def begin(self) -> None:
        self.out.write(f'{{"version": {VERSION}, "results": [')
        self._first = True

    def result(self, result: Result) -> None:
        self.out.write("\n" if self._first else ",\n")
        self._first = False
        self.out.write(json.dumps(result_dict(result), ensure_ascii=False))

    def end(self, summary: Summary) -> None:
        self.out.write("\n" if not self._first else "")
        self.out.write('], "summary": ' + json.dumps(summary.to_dict()))
        if self.options.statistics and summary.statistics is not None:
            self.out.write(', "statistics": '
                           + json.dumps(summary.statistics.to_dict(), ensure_ascii=False))
        self.out.write("}\n")
