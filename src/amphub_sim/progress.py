"""A small text progress bar: redrawn in place on a terminal, a line per 10 % otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from amphub_sim.accounting import Accounts


class ProgressBar:
    def __init__(self, total_h: float, stream: TextIO | None = None, width: int = 30) -> None:
        self.total_h = total_h
        self.stream = stream or sys.stderr
        self.width = width
        self._tty = self.stream.isatty()
        self._last_draw = 0.0
        self._last_decile = -1

    def line(self, fraction: float, accounts: Accounts) -> str:
        fraction = min(max(fraction, 0.0), 1.0)
        filled = round(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        plugged = sum(1 for s in accounts.sessions if not s.finished)
        peak = max(accounts.peak_total_a)
        return (
            f"[{bar}] {fraction * 100:5.1f}%  {fraction * self.total_h:5.1f}/{self.total_h:g} h"
            f"  {accounts.energy_wh / 1000:7.1f} kWh  cars {plugged:3d}"
            f"  peak {peak:5.1f}/{accounts.fuse_a:g} A  overload {accounts.overload_s:4.0f} s"
        )

    def __call__(self, fraction: float, accounts: Accounts) -> None:
        now = time.monotonic()
        if self._tty:
            if now - self._last_draw >= 0.2 or fraction >= 1.0:
                self._last_draw = now
                self.stream.write("\r" + self.line(fraction, accounts))
                self.stream.flush()
            return
        decile = int(fraction * 10)
        if decile != self._last_decile:
            self._last_decile = decile
            self.stream.write(self.line(fraction, accounts) + "\n")
            self.stream.flush()

    def finish(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()
