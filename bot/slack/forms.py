"""The cohort form (a Slack modal) built from the core's one table of options.

Every option in :data:`bot.core.cohorts.OPTIONS` becomes an input with the right
element (a timezone search, a weekday menu, time pickers, numbers, a checkbox), filled
with the cohort's current value or the default, so create, edit and show can't drift.
"""

from __future__ import annotations

import json
from typing import Any

from bot.core.cohorts import OPTIONS, WEEKDAYS, Cohort

COHORT_FORM = "praxis_cohort"
PROMPT_FORM = "praxis_prompt"
TIMEZONE = "timezone"
TIMES = {"time", "quiet_start", "quiet_end"}
PRIVATE_REFLECTIONS = "Members may send a reflection to the facilitators only"
CHECKBOXES = {  # on/off options: one checkbox each, with what ticking it does
    "last_call": "Send a last call at the reflection deadline",
    "anonymous_feedback": 'Post "Give feedback" as "Peer 1", "Peer 2"… (never thread replies)',
}


def _text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:75]}


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _text(label), "value": value}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool, hint: str = ""):
    block = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": _text(label),
        "element": {"action_id": block_id, **element},
    }
    if hint:
        block["hint"] = _text(hint)
    return block


def _option_element(key: str, value: Any) -> dict[str, Any]:
    if key == TIMEZONE:
        return {
            "type": "external_select",
            "min_query_length": 1,
            "initial_option": _option(str(value), str(value)),
        }
    if key == "weekday":
        options = [_option(day.capitalize(), day) for day in WEEKDAYS]
        return {"type": "static_select", "options": options, "initial_option": options[value]}
    if key in TIMES:
        return {"type": "timepicker", "initial_time": str(value)}
    if key in CHECKBOXES:
        return _checkbox(CHECKBOXES[key], bool(value))
    return {"type": "number_input", "is_decimal_allowed": False, "initial_value": str(value or 0)}


def _checkbox(label: str, ticked: bool) -> dict[str, Any]:
    box = _option(label, "on")
    return {
        "type": "checkboxes",
        "options": [box],
        **({"initial_options": [box]} if ticked else {}),
    }


def _current(cohort: Cohort | None, key: str, zone: str) -> Any:
    option = OPTIONS[key]
    if cohort is None:
        return zone if key == TIMEZONE else option.default
    value = getattr(cohort, option.column)
    return int(value) if key in CHECKBOXES else value


def cohort_form(
    *,
    cohort: Cohort | None,
    zone: str,
    usergroups: list[tuple[str, str]],
    current_group: str | None,
    channel: str | None,
    digest_channel: str | None,
) -> dict[str, Any]:
    """The create (``cohort`` None) or edit form; ``usergroups`` are ``(id, name)`` pairs."""
    blocks: list[dict[str, Any]] = [
        _input("name", "Cohort name", {
            "type": "plain_text_input", "max_length": 50,
            **({"initial_value": cohort.name} if cohort else {}),
        }, optional=False),
        _input("channel", "Channel for the weekly prompts", {
            "type": "conversations_select",
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
            **({"initial_conversation": channel} if channel
               else {"default_to_current_conversation": True}),
        }, optional=False, hint="Its members are the cohort; you and Praxis must be in it."),
    ]  # fmt: skip
    if usergroups:
        choices = [_option(name, group) for group, name in usergroups[:100]]
        initial = next((c for c in choices if c["value"] == current_group), None)
        element = {"type": "static_select", "options": choices}
        if initial:
            element["initial_option"] = initial
        hint = "Workspace admins can always manage it."
        blocks.append(
            _input("facilitators", "Facilitators (a user group)", element, optional=True, hint=hint)
        )
    for key, option in OPTIONS.items():
        blocks.append(
            _input(
                key,
                option.label,
                _option_element(key, _current(cohort, key, zone)),
                optional=key != TIMEZONE,
            )
        )
    blocks.append(_guide_input(cohort))
    digest = {"type": "conversations_select", "filter": {"include": ["private"]}}
    if digest_channel:
        digest["initial_conversation"] = digest_channel
    blocks.append(_input("digest_channel", "Private channel for digests (empty: by DM)", digest,
                         optional=True))  # fmt: skip
    allowed = cohort is None or cohort.private_reflections
    blocks.append(_input("private_reflections", "Private reflections",
                         _checkbox(PRIVATE_REFLECTIONS, allowed), optional=True))  # fmt: skip
    return {
        "type": "modal",
        "callback_id": COHORT_FORM,
        "title": _text("Edit cohort" if cohort else "New cohort"),
        "submit": _text("Save" if cohort else "Create"),
        "close": _text("Cancel"),
        "private_metadata": json.dumps({"cohort_id": cohort.id if cohort else None}),
        "blocks": blocks,
    }


def _guide_input(cohort: Cohort | None) -> dict[str, Any]:
    """The feedback guide, one question per line: "default" for Praxis's, empty for free text."""
    guide = cohort.feedback_guide if cohort else None
    shown = "default" if guide is None else "\n".join(guide)
    element = {"type": "plain_text_input", "multiline": True, "max_length": 300,
               **({"initial_value": shown} if shown else {})}  # fmt: skip
    hint = "One question per line, at most 5; “default” for Praxis's; empty for free text."
    return _input("feedback_guide", "Feedback guide", element, optional=True, hint=hint)


def read_cohort_form(values: dict[str, Any]) -> dict[str, Any]:
    """The submitted values by option key (None where empty), plus name and channels."""

    def value(block: str) -> dict[str, Any]:
        return (values.get(block) or {}).get(block) or {}

    read: dict[str, Any] = {
        "name": value("name").get("value") or "",
        "channel": value("channel").get("selected_conversation"),
        "digest_channel": value("digest_channel").get("selected_conversation"),
        "facilitators": (value("facilitators").get("selected_option") or {}).get("value"),
        "feedback_guide": value("feedback_guide").get("value") or "none",
        "private_reflections": bool(value("private_reflections").get("selected_options")),
    }
    for key in OPTIONS:
        entry = value(key)
        if key == TIMEZONE or key == "weekday":
            read[key] = (entry.get("selected_option") or {}).get("value")
        elif key in TIMES:
            read[key] = entry.get("selected_time")
        elif key in CHECKBOXES:
            read[key] = bool(entry.get("selected_options"))
        else:
            read[key] = entry.get("value")
    return read


def prompt_form(cohort: Cohort) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": PROMPT_FORM,
        "title": _text("Add a prompt"),
        "submit": _text("Add"),
        "close": _text("Cancel"),
        "private_metadata": json.dumps({"cohort_id": cohort.id}),
        "blocks": [
            _input("title", "Title", {"type": "plain_text_input", "max_length": 80}, optional=True),
            _input(
                "text",
                "Prompt",
                {"type": "plain_text_input", "multiline": True, "max_length": 1500},
                optional=False,
            ),
            _input(
                "structure",
                "Headings for the reflection, one per line",
                {"type": "plain_text_input", "multiline": True, "max_length": 230},
                optional=True,
            ),
        ],
    }


def options_for(zones: list[str]) -> list[dict[str, Any]]:
    return [_option(zone, zone) for zone in zones[:100]]
