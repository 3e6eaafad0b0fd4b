"""The default prompt bank is valid, consistent and covers the themes a term needs."""

from __future__ import annotations

import re

import pytest

from bot.core.default_prompts import DEFAULT_PROMPTS, DEIDENTIFY_REMINDER
from bot.core.prompts import DEFAULT_STRUCTURE, PromptDraft, prompt_problems

MAX_TITLE_CHARS = 60
MAX_TEXT_CHARS = 699
MAX_HEADING_CHARS = 45

#: Each theme is covered when at least one prompt's title and text match every pattern listed.
THEMES: dict[str, tuple[str, ...]] = {
    "boundaries": (r"\bboundar",),
    "empathy mistaken for personal interest": (r"\bempathy\b|\bwarmth\b", r"\bpersonal\b"),
    "self-determination": (r"self-determination|decision for|their own choice",),
    "listening rather than pushing a plan": (r"\blisten", r"\bplan\b"),
    "moving at the client's pace": (r"\bpace\b",),
    "job versus career": (r"\bjob\b", r"\bcareer\b"),
    "aspirations before reality checks": (
        r"aspiration|preferred future",
        r"obstacle|stood in the way|realistic",
    ),
    "mattering as a person, not a role": (r"\bmatter", r"\bperson\b", r"\brole\b"),
    "hope after a client's setback": (r"\bhope", r"\bsetback|relapse|reoffend", r"client"),
    "hope after your own setback": (r"\bhope", r"\bsetback", r"\byour own\b"),
    "supervision": (r"supervision",),
    "self-care": (r"self-care",),
    "admitting a mistake and apologising": (r"\bmistake", r"\bapologi[sz]"),
}


def _title_and_text(draft: PromptDraft) -> str:
    return f"{draft.title}\n{draft.text}"


def _sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.?!])\s+", text.strip()) if part]


def test_bank_has_a_full_term_of_prompts() -> None:
    assert len(DEFAULT_PROMPTS) >= 24
    assert all(isinstance(draft, PromptDraft) for draft in DEFAULT_PROMPTS)


@pytest.mark.parametrize("draft", DEFAULT_PROMPTS, ids=lambda draft: draft.title)
def test_every_prompt_passes_validation(draft: PromptDraft) -> None:
    assert prompt_problems(draft) == []


@pytest.mark.parametrize("draft", DEFAULT_PROMPTS, ids=lambda draft: draft.title)
def test_every_prompt_fits_the_house_style(draft: PromptDraft) -> None:
    assert draft.title == draft.title.strip()
    assert len(draft.title) <= MAX_TITLE_CHARS
    assert not re.match(r"^\s*(\d+|week|round)\b", draft.title, re.IGNORECASE)
    assert len(draft.text) <= MAX_TEXT_CHARS
    assert 2 <= len(_sentences(draft.text)) <= 5
    assert 3 <= len(draft.structure) <= 5
    assert all(0 < len(heading) <= MAX_HEADING_CHARS for heading in draft.structure)
    assert len(set(draft.structure)) == len(draft.structure)


@pytest.mark.parametrize("draft", DEFAULT_PROMPTS, ids=lambda draft: draft.title)
def test_every_text_ends_with_the_deidentify_reminder(draft: PromptDraft) -> None:
    assert draft.text.endswith(" " + DEIDENTIFY_REMINDER)
    assert draft.text.count(DEIDENTIFY_REMINDER) == 1


def test_reminder_is_one_sentence() -> None:
    assert len(_sentences(DEIDENTIFY_REMINDER)) == 1


def test_titles_are_unique() -> None:
    titles = [draft.title.casefold() for draft in DEFAULT_PROMPTS]
    assert len(titles) == len(set(titles))


def test_structures_vary_but_the_classic_cycle_is_used() -> None:
    structures = {draft.structure for draft in DEFAULT_PROMPTS}
    assert DEFAULT_STRUCTURE in structures
    assert len(structures) >= len(DEFAULT_PROMPTS) // 2


@pytest.mark.parametrize("theme", THEMES)
def test_theme_is_covered(theme: str) -> None:
    patterns = [re.compile(pattern, re.IGNORECASE) for pattern in THEMES[theme]]
    matching = [
        draft.title
        for draft in DEFAULT_PROMPTS
        if all(pattern.search(_title_and_text(draft)) for pattern in patterns)
    ]
    assert matching, f"no default prompt covers {theme!r}"
