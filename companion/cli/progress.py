"""Progress bars for long commands (index, chat --import): tqdm on stderr, only on a terminal."""

from __future__ import annotations

import sys

from tqdm import tqdm

from companion.core.types import Progress

UNITS = {"scan": "file", "index": "photo", "faces": "face", "import": "message"}


class ProgressBar:
    """Progress on stderr: one tqdm bar per stage (scan, index, faces; check, import, learn), wiped when it ends."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: tqdm | None = None
        self.stage = ""

    def show(self, progress: Progress) -> None:
        if not self.enabled:
            return
        if self.bar is None or progress.stage != self.stage:
            self.close()
            self.stage = progress.stage
            self.bar = tqdm(total=progress.total, desc=f"{progress.stage:5}", unit=UNITS.get(progress.stage, "it"),
                            file=sys.stderr, leave=False, mininterval=0.1, dynamic_ncols=True)
        if progress.total is not None and self.bar.total != progress.total:
            self.bar.total = progress.total
        self.bar.set_postfix_str(progress.message, refresh=False)
        self.bar.update(progress.done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
