"""User regular expressions, compiled with RE2: linear time, so no pattern from a config file
can backtrack for minutes on a hostile title or link."""

from __future__ import annotations

from typing import Any


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
