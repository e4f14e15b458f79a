"""The one error type for problems a user can cause; its message says how to fix them."""

from __future__ import annotations


class FramelensError(Exception):
    """A user-fixable problem (bad file, unknown label, empty text, missing model)."""


class DataError(FramelensError):
    """Labelled data that failed validation; `problems` holds one line per problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(
            f"{source}: {len(problems)} problem(s) in the labelled data; nothing was trained.\n{shown}{more}"
        )
