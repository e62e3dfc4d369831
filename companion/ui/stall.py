"""Measure how long the event loop goes without running a timer (the GUI's responsiveness).

A :class:`QTimer` ticks every few milliseconds; the largest gap between ticks,
minus the interval, is the longest time the loop was blocked.
"""

from __future__ import annotations

import time

from companion.ui.qt import QObject, QTimer


class StallMeter(QObject):
    """Records the longest gap between timer ticks while running."""

    def __init__(self, interval_ms: int = 5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self.max_gap_ms = 0.0
        self.ticks = 0

    def start(self) -> None:
        self.max_gap_ms, self.ticks = 0.0, 0
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> float:
        """Stop and return the longest stall in ms (gap beyond the tick interval)."""
        self._tick()
        self._timer.stop()
        return self.stall_ms

    @property
    def stall_ms(self) -> float:
        return max(0.0, self.max_gap_ms - self.interval_ms)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.max_gap_ms = max(self.max_gap_ms, (now - self._last) * 1000)
        self._last = now
        self.ticks += 1
