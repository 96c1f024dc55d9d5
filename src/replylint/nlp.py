"""The spaCy pipeline, built once and lazily, shared read-only by every rule.

Only `tokens` rules need a spaCy `Doc`; everything else runs on plain text, so `import replylint`
does not import spaCy. Tokenizing may add strings to the shared vocabulary, so it runs under a lock:
that keeps a `Linter` safe to share between threads.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc

_lock = threading.Lock()
_nlp: Language | None = None


def get_nlp() -> Language:
    """The shared blank English pipeline (tokenizer only; no model download needed)."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                import spacy

                _nlp = spacy.blank("en")
    return _nlp


def make_doc(text: str) -> Doc:
    """Tokenize `text` with the shared pipeline (thread-safe)."""
    nlp = get_nlp()
    with _lock:
        return nlp.make_doc(text)


def vocab() -> Any:
    return get_nlp().vocab
