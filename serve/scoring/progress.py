"""The progress bar of `framelens score`: articles/s and ETA from tqdm, windows (passages)/s and errors beside."""

from __future__ import annotations

import sys
import time
from typing import Any

from framelens.serve.scoring.ledger import Counts


class ProgressBar:
    def __init__(self, description: str = "scoring", enabled: bool = True) -> None:
        self.description = description
        self.enabled = enabled
        self._bar: Any = None
        self._windows = 0
        self._began = time.monotonic()

    def __call__(self, counts: Counts, items: int, windows: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=counts.total,
                initial=counts.consumed,
                desc=self.description,
                unit=" articles",
                unit_scale=False,
                dynamic_ncols=True,
                file=sys.stderr,
                smoothing=0.1,
            )
            self._began = time.monotonic()
        self._windows += windows
        rate = self._windows / max(time.monotonic() - self._began, 1e-9)
        self._bar.set_postfix_str(f"{rate:.1f} windows/s, {counts.errors} errors", refresh=False)
        self._bar.update(items)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
