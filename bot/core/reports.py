"""Facilitator reports: one round, one member, the whole cohort as CSV or a chart.

Everything is built from one :class:`CohortHistory`, loaded with four grouped queries
whatever the size of the cohort, so cost grows with members × rounds and no worse.
A member's standing in a round is one of:

* ``on_time``: enough words to count arrived before the reflection deadline;
* ``late``: it counts, but the words it needed came after the deadline;
* ``short``: they wrote, but not enough to count;
* ``missing``: nothing (yet);
* ``excused``: a facilitator excused them from that round.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from statistics import mean
from typing import Literal

from bot.core.chart import Cell, ParticipationGrid
from bot.core.clock import from_db
from bot.core.cohorts import Cohort
from bot.core.errors import InvalidInput
from bot.core.ports import Person
from bot.core.rounds import Round
from bot.storage import reports as store
from bot.storage.db import Database

Status = Literal["on_time", "late", "short", "missing", "excused"]
COUNTED: frozenset[str] = frozenset({"on_time", "late"})


@dataclass(frozen=True, slots=True)
class Standing:
    status: Status
    words: int = 0
    feedback_given: int = 0
    feedback_received: int = 0
    short_feedback: int = 0


MISSING = Standing("missing")


@dataclass(slots=True)
class CohortHistory:
    cohort: Cohort
    rounds: list[Round]
    members: list[Person]
    standings: dict[tuple[int, int], Standing] = field(default_factory=dict)

    def standing(self, round_id: int, member_id: int) -> Standing:
        return self.standings.get((round_id, member_id), MISSING)


async def load_history(
    db: Database, cohort: Cohort, roster: list[Person], round_id: int | None = None
) -> CohortHistory:
    """Everything reports need, for the whole cohort or one round."""
    rounds = [Round.from_row(r) for r in await store.reported_rounds(db, cohort.id)]
    if round_id is not None:
        rounds = [r for r in rounds if r.id == round_id]
    threshold = cohort.feedback_threshold
    tallies = await store.tallies(db, cohort.id, threshold, round_id)
    received = {
        (r["round_id"], r["target_id"]): r["n"]
        for r in await store.received(db, cohort.id, threshold, round_id)
    }
    excused = {
        (r["round_id"], r["member_id"]) for r in await store.excusals(db, cohort.id, round_id)
    }
    names = {person.id: person.name for person in roster}
    for row in tallies:
        if row["words"]:
            names.setdefault(row["author_id"], row["author_name"])
    history = CohortHistory(
        cohort=cohort,
        rounds=rounds,
        members=sorted((Person(i, n) for i, n in names.items()), key=lambda p: p.name.casefold()),
    )
    need = cohort.reflection_threshold
    by_key = {(row["round_id"], row["author_id"]): row for row in tallies}
    for round_ in rounds:
        for person in history.members:
            key = (round_.id, person.id)
            row = by_key.get(key)
            words = row["words"] if row else 0
            if key in excused:
                status: Status = "excused"
            elif words >= need:
                status = "on_time" if row["words_on_time"] >= need else "late"
            elif words > 0:
                status = "short"
            else:
                status = "missing"
            history.standings[key] = Standing(
                status=status,
                words=words,
                feedback_given=row["feedback_given"] if row else 0,
                feedback_received=received.get(key, 0),
                short_feedback=row["short_feedback"] if row else 0,
            )
    return history


# ------------------------------------------------------------------------ one round


@dataclass(frozen=True, slots=True)
class RoundSummary:
    cohort_name: str
    round: Round
    rows: tuple[tuple[Person, Standing], ...]
    nudges_sent: int

    def _with(self, *statuses: str) -> list[Person]:
        return [person for person, standing in self.rows if standing.status in statuses]

    @property
    def members(self) -> int:
        return len(self.rows)

    @property
    def counted(self) -> int:
        return len(self._with(*COUNTED))

    @property
    def on_time(self) -> int:
        return len(self._with("on_time"))

    @property
    def late(self) -> int:
        return len(self._with("late"))

    @property
    def missing(self) -> list[Person]:
        return self._with("missing")

    @property
    def short(self) -> list[Person]:
        return self._with("short")

    @property
    def excused(self) -> list[Person]:
        return self._with("excused")

    @property
    def short_feedback(self) -> int:
        return sum(standing.short_feedback for _, standing in self.rows)


async def round_summary(
    db: Database, cohort: Cohort, roster: list[Person], number: int | None = None
) -> RoundSummary:
    rounds = [Round.from_row(r) for r in await store.reported_rounds(db, cohort.id)]
    if not rounds:
        raise InvalidInput(f"**{cohort.name}** has no posted rounds yet.")
    chosen = rounds[-1] if number is None else next((r for r in rounds if r.number == number), None)
    if chosen is None:
        raise InvalidInput(f"**{cohort.name}** has no posted round {number}.")
    history = await load_history(db, cohort, roster, chosen.id)
    rows = tuple((p, history.standing(chosen.id, p.id)) for p in history.members)
    return RoundSummary(cohort.name, chosen, rows, await store.nudges_sent(db, chosen.id))


# ----------------------------------------------------------------------- one member


@dataclass(frozen=True, slots=True)
class MemberSummary:
    person: Person
    per_round: tuple[tuple[Round, Standing], ...]
    streak: int

    def count(self, status: str) -> int:
        return sum(1 for _, standing in self.per_round if standing.status == status)

    @property
    def completed(self) -> int:
        return sum(1 for _, s in self.per_round if s.status in COUNTED)

    @property
    def feedback_given(self) -> int:
        return sum(s.feedback_given for _, s in self.per_round)

    @property
    def feedback_received(self) -> int:
        return sum(s.feedback_received for _, s in self.per_round)

    @property
    def average_words(self) -> float | None:
        counted = [s.words for _, s in self.per_round if s.status in COUNTED]
        return mean(counted) if counted else None


def member_summary(history: CohortHistory, person: Person, now: datetime) -> MemberSummary:
    per_round = tuple((r, history.standing(r.id, person.id)) for r in history.rounds)
    return MemberSummary(person, per_round, streak(per_round, now))


def streak(per_round: tuple[tuple[Round, Standing], ...], now: datetime) -> int:
    """Consecutive counted reflections up to the latest round whose deadline has passed.

    The round still open for reflections doesn't break a streak (it may yet count), and
    neither does an excused round.
    """
    run = 0
    for round_, standing in reversed(per_round):
        if standing.status in COUNTED:
            run += 1
        elif standing.status == "excused" or round_.reflect_due > now:
            continue
        else:
            break
    return run


async def member_report(
    db: Database, cohort: Cohort, roster: list[Person], person: Person, now: datetime
) -> MemberSummary:
    history = await load_history(db, cohort, [*roster, person])
    return member_summary(history, person, now)


# -------------------------------------------------------------------- chart & export


def grid(history: CohortHistory) -> ParticipationGrid:
    return ParticipationGrid(
        title=f"{history.cohort.name} · participation",
        round_labels=tuple(f"R{r.number}" for r in history.rounds),
        member_names=tuple(p.name for p in history.members),
        cells=tuple(
            tuple(
                Cell(s.status, s.feedback_given)
                for s in (history.standing(r.id, p.id) for r in history.rounds)
            )
            for p in history.members
        ),
    )


EXPORT_COLUMNS = (
    "round", "prompt_title", "member_id", "member_name", "kind", "to_member_id",
    "to_member_name", "posted_at", "on_time", "word_count", "counted",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


async def export_csv(
    db: Database, cohort: Cohort, names: dict[int, str], *, include_text: bool
) -> bytes:
    """One row per reflection (its messages joined) or feedback post, as spreadsheet CSV.

    UTF-8 with a byte-order mark so spreadsheets detect the encoding; times in ISO 8601
    in the cohort's timezone; text that would start a spreadsheet formula gets a leading
    apostrophe (the usual guard against CSV formula injection).
    """
    rows = await store.export_rows(db, cohort.id)
    zone = cohort.schedule.zone
    for row in rows:
        names.setdefault(row["author_id"], row["author_name"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*EXPORT_COLUMNS, *(["text"] if include_text else [])])
    for record in _export_records(rows, cohort):
        posted = from_db(record["posted_at"]).astimezone(zone).isoformat(timespec="seconds")
        target = record["target_id"]
        line = [
            record["number"],
            _cell(record["title"] or ""),
            str(record["author_id"]),
            _cell(names.get(record["author_id"], "")),
            record["kind"],
            str(target) if target else "",
            _cell(names.get(target, "")) if target else "",
            posted,
            "yes" if record["on_time"] else "no",
            record["word_count"],
            "yes" if record["counted"] else "no",
        ]
        if include_text:
            line.append(_cell(record["text"] or ""))
        writer.writerow(line)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _export_records(rows, cohort: Cohort) -> list[dict]:
    """Reflection parts joined per member and round; feedback posts as they are."""
    records: list[dict] = []
    reflections: dict[tuple[int, int], dict] = {}
    for row in rows:
        if row["kind"] == "feedback":
            records.append(
                {
                    **dict(row),
                    "on_time": not row["late"],
                    "counted": row["word_count"] >= cohort.feedback_threshold,
                }
            )
            continue
        key = (row["round_id"], row["author_id"])
        joined = reflections.get(key)
        if joined is None:
            joined = reflections[key] = {
                **dict(row),
                "texts": [],
                "word_count": 0,
                "on_time_words": 0,
            }
            records.append(joined)
        joined["texts"].append(row["text"] or "")
        joined["word_count"] += row["word_count"]
        joined["on_time_words"] += 0 if row["late"] else row["word_count"]
        joined["posted_at"] = min(joined["posted_at"], row["posted_at"])
    need = cohort.reflection_threshold
    for joined in reflections.values():
        joined["text"] = "\n\n".join(joined.pop("texts"))
        joined["counted"] = joined["word_count"] >= need
        joined["on_time"] = joined.pop("on_time_words") >= need or (
            not joined["counted"] and not joined["late"]
        )
    return records


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value
