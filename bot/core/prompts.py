"""Prompt bank rules: what a prompt is, and how a cohort's bank rotates."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import limits

#: The classic reflective cycle (Rolfe et al.), used when a prompt names no structure of its own.
DEFAULT_STRUCTURE: tuple[str, ...] = ("What happened?", "So what?", "Now what?")

#: The questions "Give feedback" asks when a cohort sets no guide of its own.
DEFAULT_FEEDBACK_GUIDE: tuple[str, ...] = (
    "What stood out",
    "A question you'd ask",
    "Something to try",
)


@dataclass(frozen=True, slots=True)
class PromptDraft:
    """A prompt before it is stored: a title, the question, and the headings a reflection follows.

    The structure's headings become the fields of the reflection form, so there are at
    most five of them and each fits a Discord text-input label.
    """

    title: str
    text: str
    structure: tuple[str, ...] = DEFAULT_STRUCTURE


def prompt_problems(draft: PromptDraft) -> list[str]:
    """Every reason this draft cannot be stored, as sentences a facilitator can act on."""
    problems: list[str] = []
    if not draft.title.strip():
        problems.append("the title is empty")
    elif len(draft.title) > limits.MAX_PROMPT_TITLE_CHARS:
        problems.append(f"the title is longer than {limits.MAX_PROMPT_TITLE_CHARS} characters")
    if not draft.text.strip():
        problems.append("the prompt text is empty")
    elif len(draft.text) > limits.MAX_PROMPT_TEXT_CHARS:
        problems.append(f"the prompt text is longer than {limits.MAX_PROMPT_TEXT_CHARS} characters")
    if not 1 <= len(draft.structure) <= limits.MAX_STRUCTURE_SECTIONS:
        problems.append(f"the structure needs 1 to {limits.MAX_STRUCTURE_SECTIONS} headings")
    for heading in draft.structure:
        if not heading.strip() or len(heading) > limits.MAX_SECTION_LABEL_CHARS:
            problems.append(
                f"each structure heading needs 1 to {limits.MAX_SECTION_LABEL_CHARS} characters"
            )
            break
    return problems
