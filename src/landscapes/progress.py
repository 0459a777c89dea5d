"""Progress of a long loop in the job's log: `what: k/n, elapsed 1m05s, ~3m20s left`.

A loop makes `p = Progress(n, "skips resnet20 epochs")` before it and calls `p.step()` once per
item. A line is logged at most every `every` seconds, and a closing line once a loop that
logged is finished, so loops shorter than `every` stay quiet and slow ones say how long they
have to go. Logging only: nothing computed depends on it, and it draws no random numbers.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)

EVERY = 30.0  # seconds between two lines of a loop; read per Progress, so tests can lower it


def duration(seconds: float) -> str:
    """A short duration: 42s, 3m05s, 2h07m."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class Progress:
    """Counts the items of a loop and logs k/n with the elapsed time and the time left."""

    def __init__(self, total: int, what: str, every: float | None = None,
                 logger: logging.Logger | None = None, clock=time.monotonic):
        self.total, self.what = int(total), what
        self.every = EVERY if every is None else float(every)
        self.log = logger or log
        self.clock = clock
        self.done = 0
        self.logged = False
        self.start = self.last = clock()

    def text(self, now: float | None = None) -> str:
        elapsed = (self.clock() if now is None else now) - self.start
        line = f"{self.what}: {self.done}/{self.total}, elapsed {duration(elapsed)}"
        if 0 < self.done < self.total:
            line += f", ~{duration(elapsed / self.done * (self.total - self.done))} left"
        elif self.done >= self.total:
            line += ", done"
        return line

    def step(self, n: int = 1) -> None:
        """`n` more items done; log if `every` seconds have passed since the last line (or the
        start), or if this finishes a loop that has logged."""
        self.done += n
        now = self.clock()
        if now - self.last >= self.every or (self.logged and self.done == self.total):
            self.last, self.logged = now, True
            self.log.info("%s", self.text(now))

    @classmethod
    def over(cls, items, what: str, **kwargs):
        """The items of a sequence, counted: `for a in Progress.over(alphas, "points")`."""
        progress = cls(len(items), what, **kwargs)
        for item in items:
            yield item
            progress.step()
