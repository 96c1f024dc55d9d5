"""One JSON object per reply and line, as each is checked (fields as in the json format).

A reply that could not be checked gets `{"source", "id", ..., "error": {"message", "line"}}`
instead of a decision; the run goes on. `--statistics` goes to stderr, keeping stdout uniform.
"""

from __future__ import annotations

import json

from .base import Formatter, Result, Summary, result_dict


class JsonlFormatter(Formatter):
    def result(self, result: Result) -> None:
        self.out.write(json.dumps(result_dict(result), ensure_ascii=False) + "\n")

    def end(self, summary: Summary) -> None:
        self.side_statistics(summary)
