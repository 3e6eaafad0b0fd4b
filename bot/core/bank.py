"""A cohort's prompt bank: add, list, remove, move and import prompts.

Every change checks the bank's limits first and writes in one transaction. An import
adds the prompts that pass and reports the rest with reasons; a prompt whose text is
already in the bank is reported, not added twice; a full bank says so instead of growing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core import limits
from bot.core.clock import to_db
from bot.core.cohorts import Cohort
from bot.core.errors import Conflict, InvalidInput
from bot.core.prompt_import import ImportResult, Rejection, parse_prompt_file
from bot.core.prompts import PromptDraft, prompt_problems
from bot.storage import prompts as store
from bot.storage.db import Database, Row

PAGE_SIZE = 10


@dataclass(frozen=True, slots=True)
class StoredPrompt:
    position: int
    title: str
    text: str
    structure: tuple[str, ...]

    @classmethod
    def from_row(cls, row: Row) -> StoredPrompt:
        return cls(row["position"], row["title"], row["text"], store.structure_of(row))


@dataclass(frozen=True, slots=True)
class PromptPage:
    prompts: tuple[StoredPrompt, ...]
    page: int
    pages: int
    total: int


async def add_prompt(db: Database, cohort: Cohort, draft: PromptDraft, now: datetime) -> int:
    """Append one prompt; returns its position in the bank."""
    problems = prompt_problems(draft)
    if problems:
        raise InvalidInput("I couldn't add that prompt: " + "; ".join(problems) + ".")
    async with db.transaction() as tx:
        size = await store.count(tx, cohort.id)
        if size >= limits.MAX_PROMPTS_PER_COHORT:
            raise Conflict(_bank_full(cohort))
        await store.append(tx, cohort.id, [draft], to_db(now))
        return size + 1


async def list_prompts(db: Database, cohort: Cohort, page: int) -> PromptPage:
    async with db.reading() as tx:
        total = await store.count(tx, cohort.id)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = await store.page(db, cohort.id, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    return PromptPage(tuple(StoredPrompt.from_row(r) for r in rows), page, pages, total)


async def remove_prompt(db: Database, cohort: Cohort, number: int) -> StoredPrompt:
    async with db.transaction() as tx:
        row = await _existing(tx, cohort, number)
        await store.remove(tx, cohort.id, number)
        return StoredPrompt.from_row(row)


async def move_prompt(db: Database, cohort: Cohort, number: int, position: int) -> StoredPrompt:
    async with db.transaction() as tx:
        row = await _existing(tx, cohort, number)
        size = await store.count(tx, cohort.id)
        if not 1 <= position <= size:
            raise InvalidInput(f"The position must be between 1 and {size}.")
        await store.move(tx, cohort.id, number, position)
        return StoredPrompt.from_row(row)


async def import_prompts(
    db: Database, cohort: Cohort, filename: str, data: bytes, now: datetime
) -> ImportResult:
    """Add every acceptable prompt from the file; the rest come back with reasons."""
    parsed = parse_prompt_file(filename, data)
    rejected = list(parsed.rejected)
    async with db.transaction() as tx:
        known = {_same_text(text) for text in await store.texts(tx, cohort.id)}
        fresh = [d for d in parsed.drafts if _same_text(d.text) not in known]
        if len(fresh) < len(parsed.drafts):
            repeated = len(parsed.drafts) - len(fresh)
            rejected.append(Rejection(0, f"{repeated} prompt(s) are already in the bank"))
        room = limits.MAX_PROMPTS_PER_COHORT - await store.count(tx, cohort.id)
        accepted, overflow = fresh[: max(room, 0)], fresh[max(room, 0) :]
        await store.append(tx, cohort.id, accepted, to_db(now))
    if overflow:
        rejected.append(Rejection(0, f"{len(overflow)} prompt(s) not added: {_bank_full(cohort)}"))
    return ImportResult(tuple(accepted), tuple(rejected))


async def _existing(tx, cohort: Cohort, number: int) -> Row:
    row = await store.at_position(tx, cohort.id, number)
    if row is None:
        size = await store.count(tx, cohort.id)
        raise InvalidInput(
            f"**{cohort.name}**'s bank has no prompt {number}; it has {size}. "
            "`/prompt list` shows their numbers."
        )
    return row


def _same_text(text: str) -> str:
    return " ".join(text.split()).casefold()


def _bank_full(cohort: Cohort) -> str:
    return (
        f"**{cohort.name}**'s bank already holds {limits.MAX_PROMPTS_PER_COHORT} prompts, "
        "the most it can. Remove some first."
    )
