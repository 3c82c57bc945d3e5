"""Text matching shared by channel filters and search: user regular expressions, compiled
with RE2 (linear time, so no pattern from a config file can backtrack for minutes on a
hostile title or link), and the plain reading of letters that have no combining mark."""

from __future__ import annotations

from typing import Any

# Letters that carry no combining mark under NFKD (so stripping accents keeps them) and
# their plain reading, in both cases: 'Łukašenka' is found by 'Lukasenka', 'Biełaruski' by
# 'bielaruski'. Channel keywords and full-text search both fold with it.
PLAIN_LETTERS: dict[str, str] = {
    "ł": "l",
    "Ł": "L",
    "ø": "o",
    "Ø": "O",
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "ħ": "h",
    "Ħ": "H",
    "ı": "i",
    "ŀ": "l",
    "Ŀ": "L",
    "ŧ": "t",
    "Ŧ": "T",
    "ß": "ss",
    "ẞ": "SS",
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "þ": "th",
    "Þ": "TH",
    "ĸ": "k",
    "ŉ": "n",
    "ё": "е",
    "Ё": "Е",
}


def compile_linear(pattern: str, *, ignore_case: bool = False) -> Any:
    """An RE2 pattern. Raises ValueError when RE2 cannot compile it (back-references,
    lookaround), with RE2's reason."""
    import re2

    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.log_errors = False  # the error is raised here, not written to stderr
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(f"invalid regular expression {pattern!r}: {reason}") from None
