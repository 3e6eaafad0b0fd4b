"""Weekly schedule math in a cohort's own timezone.

Slots are computed on local calendar dates and converted to UTC one by one, so a
cohort at 09:00 America/New_York opens at 09:00 local on both sides of a DST change
(the UTC instant moves; the local time does not).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from bot.core.clock import require_aware


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """Opens every ``every_weeks`` weeks on ``weekday`` (0 = Monday) at ``at`` local time.

    ``anchor`` is the instant the schedule starts from: the first slot is the first
    matching local time at or after it, and later slots follow every ``every_weeks`` weeks.
    """

    timezone: str
    weekday: int
    at: time
    every_weeks: int
    anchor: datetime

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def _first_date(self) -> date:
        local = require_aware(self.anchor).astimezone(self.zone)
        first = local.date() + timedelta(days=(self.weekday - local.weekday()) % 7)
        if self._instant(first) < self.anchor:
            first += timedelta(days=7)
        return first

    def _instant(self, day: date) -> datetime:
        """UTC instant of ``at`` on local ``day``; a time skipped by DST moves forward with it."""
        local = datetime.combine(day, self.at, tzinfo=self.zone)
        return local.astimezone(UTC)

    def slots(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Slots in ``[start, end]`` (UTC), oldest first. Linear in the number of slots returned."""
        require_aware(start)
        require_aware(end)
        step = timedelta(days=7 * self.every_weeks)
        first = self._first_date()
        start_day = start.astimezone(self.zone).date()
        # Jump close to ``start`` without walking every week since the anchor.
        skip = max(0, (start_day - first).days // step.days - 1)
        day = first + skip * step
        while True:
            instant = self._instant(day)
            if instant > end:
                return
            if instant >= start:
                yield instant
            day += step

    def next_slot(self, after: datetime) -> datetime:
        """The first slot strictly after ``after`` (and so never before the anchor)."""
        after = max(after, self.anchor - timedelta(microseconds=1))
        horizon = after + timedelta(days=7 * self.every_weeks + 2)
        for instant in self.slots(after, horizon):
            if instant > after:
                return instant
        raise AssertionError("a weekly schedule always has a slot within one period")

    def after_round(self, opened: datetime, feedback_due: datetime) -> WeeklySchedule:
        """This schedule, opening nothing before a round opened earlier has run its course.

        The first slot is the first one at or after the end of that round's feedback window,
        and later slots count on from it (so an every-2-weeks rhythm starts with the new
        schedule's first round). The window's length is laid on the cohort's local clock, as
        the schedule's own slots are: with feedback open all week, a DST change in that week
        neither costs a week nor opens the next round sooner than the unchanged schedule would.
        """
        local = require_aware(opened).astimezone(self.zone).replace(tzinfo=None)
        ends = (local + (feedback_due - opened)).replace(tzinfo=self.zone).astimezone(UTC)
        return self if ends <= self.anchor else replace(self, anchor=ends)

    def local_date(self, instant: datetime) -> date:
        """The cohort-local calendar date of a slot (what facilitators name when skipping)."""
        return instant.astimezone(self.zone).date()


@cache
def _zone(name: str) -> ZoneInfo:
    """zoneinfo keeps only 8 zones strongly; with more cohorts' zones than that, each
    lookup would read the zone file again."""
    return ZoneInfo(name)
