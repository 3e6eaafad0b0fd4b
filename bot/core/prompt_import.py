"""Turn an uploaded prompt-bank file into prompt drafts, and say kindly what could not be used.

Facilitators write prompt banks in whatever they have to hand: a text or Markdown file with
prompts separated by ``---``, or a spreadsheet saved as CSV. This module is pure (bytes in,
drafts and rejections out) so the Discord side only has to show the result, and so every
odd file a facilitator might upload can be tested without Discord or a database.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.core import limits
from bot.core.prompts import DEFAULT_STRUCTURE, PromptDraft, prompt_problems

NOT_UTF8 = "the file is not UTF-8 text; save it as UTF-8 and try again"
WRONG_EXTENSION = "only .txt, .md and .csv files can be imported"
EMPTY_FILE = "the file is empty"
NO_PROMPTS = "the file has no prompts in it"
TOO_LARGE = (
    f"the file is larger than {limits.MAX_IMPORT_BYTES // 1024} KB; "
    "split it into smaller files and import each one"
)
MISSING_TEXT_COLUMN = (
    'the first row needs a "text" column heading (and may also have "title" and '
    '"structure"), separated by commas'
)
EXTRA_CELLS = (
    "the row has more cells than the first row has headings; "
    "put text that contains commas in double quotes"
)
MANY_STRUCTURES = "the prompt has more than one Structure: line; keep just one"

_TEXT_EXTENSIONS = (".txt", ".md")
_CSV_EXTENSION = ".csv"
_ELLIPSIS = "…"

_TITLE_LINE = re.compile(r"title\s*:(.*)", re.IGNORECASE | re.DOTALL)
_STRUCTURE_LINE = re.compile(r"\s*structure\s*:(.*)", re.IGNORECASE | re.DOTALL)
_FIRST_SENTENCE = re.compile(r"(.*?[.!?])(?=\s|$)")
_HEADING_CLOSER = re.compile(r"\s+#+$")
_PARTIAL_WORD = re.compile(r"\s+\S*$")


@dataclass(frozen=True, slots=True)
class Rejection:
    """One thing that could not be imported, located so a facilitator can find and fix it.

    ``line`` is the 1-based line where the rejected prompt (or CSV row) starts, or 0 when
    the problem is with the file as a whole.
    """

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The drafts that can be stored and the rejections to show, both in file order."""

    drafts: tuple[PromptDraft, ...]
    rejected: tuple[Rejection, ...]


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A draft as read from the file, before validation, with any problems the parser saw."""

    line: int
    draft: PromptDraft
    problems: tuple[str, ...] = ()


class _FileProblem(Exception):
    """Raised inside the parsers when the whole file must be rejected; never escapes."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_prompt_file(filename: str, data: bytes) -> ImportResult:
    """Read a prompt bank, returning every usable draft and a reason for everything else.

    Never raises for any bytes: an upload is untrusted input, and the facilitator is better
    served by a rejection they can act on than by an error.
    """
    try:
        text = _checked_text(filename, data)
        if filename.lower().endswith(_CSV_EXTENSION):
            candidates = _csv_candidates(text)
        else:
            candidates = _text_candidates(text)
        if not candidates:
            raise _FileProblem(NO_PROMPTS)
    except _FileProblem as problem:
        return ImportResult(drafts=(), rejected=(Rejection(0, problem.reason),))
    return _judge(candidates)


# Whole-file checks


def _checked_text(filename: str, data: bytes) -> str:
    """Apply the whole-file checks and decode, so the parsers only ever see usable text.

    The extension is checked first because "wrong kind of file" is the most useful thing to
    say about, say, a large PDF.
    """
    if not filename.lower().endswith((*_TEXT_EXTENSIONS, _CSV_EXTENSION)):
        raise _FileProblem(WRONG_EXTENSION)
    if len(data) > limits.MAX_IMPORT_BYTES:
        raise _FileProblem(TOO_LARGE)
    if not data:
        raise _FileProblem(EMPTY_FILE)
    text = _decode(data)
    if text is None:
        raise _FileProblem(NOT_UTF8)
    if not text.strip():
        raise _FileProblem(EMPTY_FILE)
    return text


def _decode(data: bytes) -> str | None:
    """Decode UTF-8 (dropping a BOM) with every line ending as ``\\n``; None if not text.

    Windows editors add a BOM and CRLF endings and old Mac files use CR; normalising here
    keeps line numbers and prompt text identical whichever editor saved the file. A NUL byte
    is valid UTF-8 but never appears in real text, so it marks a binary file.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if "\x00" in text:
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Plain text and Markdown


def _text_candidates(text: str) -> list[_Candidate]:
    """One candidate per non-empty block, so trailing or doubled separators do no harm."""
    candidates = []
    for start, block in _blocks(text.split("\n")):
        offset = next((i for i, line in enumerate(block) if line.strip()), None)
        if offset is not None:
            candidates.append(_block_candidate(start + offset + 1, block))
    return candidates


def _blocks(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield (0-based first line, lines) for each block between separators."""
    start = 0
    for index in range(len(lines)):
        if _is_separator(lines, index):
            yield start, lines[start:index]
            start = index + 1
    yield start, lines[start:]


def _is_separator(lines: list[str], index: int) -> bool:
    """A ``---`` line counts only with blank lines around it.

    This keeps a Markdown horizontal rule or a ``---`` written inside a prompt from
    splitting that prompt in two.
    """
    if lines[index].strip() != "---":
        return False
    blank_before = index == 0 or not lines[index - 1].strip()
    blank_after = index == len(lines) - 1 or not lines[index + 1].strip()
    return blank_before and blank_after


def _block_candidate(line: int, block: list[str]) -> _Candidate:
    """Split a block into title, text and structure, keeping what the facilitator wrote."""
    structures = [m.group(1) for row in block if (m := _STRUCTURE_LINE.match(row))]
    body = _without_blank_edges([row for row in block if not _STRUCTURE_LINE.match(row)])
    title = _explicit_title(body[0]) if body else None
    if title is not None:
        body = body[1:]
    text = _clean_text("\n".join(body))
    draft = PromptDraft(
        title=derive_title(text) if title is None else title,
        text=text,
        structure=_parse_structure(structures[0]) if structures else DEFAULT_STRUCTURE,
    )
    return _Candidate(line, draft, (MANY_STRUCTURES,) if len(structures) > 1 else ())


def _without_blank_edges(lines: list[str]) -> list[str]:
    """Drop blank lines at both ends, so a title is found even after spacing lines."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return lines[filled[0] : filled[-1] + 1] if filled else []


def _explicit_title(first_line: str) -> str | None:
    """The title named by a Markdown heading or a ``Title:`` line, or None if there is none."""
    stripped = first_line.strip()
    if stripped.startswith("#"):
        return _one_line(_HEADING_CLOSER.sub("", stripped.lstrip("#")))
    match = _TITLE_LINE.match(stripped)
    return _one_line(match.group(1)) if match else None


# CSV


def _csv_candidates(text: str) -> list[_Candidate]:
    """One candidate per non-empty row under a header that names a ``text`` column."""
    rows = [(line, cells) for line, cells in _csv_rows(text) if _has_content(cells)]
    if not rows:
        return []
    columns = _columns(rows[0][1])
    if "text" not in columns:
        raise _FileProblem(MISSING_TEXT_COLUMN)
    return [_row_candidate(line, cells, columns, len(rows[0][1])) for line, cells in rows[1:]]


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """Every row with the file line it starts on; quoted cells may span several lines.

    ``strict`` mode turns a stray or unclosed quote into an error rather than quietly
    merging rows, since a silently mangled prompt is worse than a clear rejection.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, skipinitialspace=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as error:
        raise _FileProblem(
            f"the CSV row starting at line {start} could not be read ({error}); "
            "check that its quotes are closed"
        ) from error
    return rows


def _has_content(cells: list[str]) -> bool:
    """Whether a row has anything in it; blank rows and rows of empty cells are skipped."""
    return any(cell.strip() for cell in cells)


def _columns(header: list[str]) -> dict[str, int]:
    """Map trimmed, lower-cased heading names to their first column index."""
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        columns.setdefault(name.strip().lower(), index)
    return columns


def _row_candidate(line: int, cells: list[str], columns: dict[str, int], width: int) -> _Candidate:
    """Build a draft from one row; missing cells count as empty, like a spreadsheet shows."""

    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else ""

    text = _clean_text(cell("text"))
    structure = cell("structure")
    draft = PromptDraft(
        title=_one_line(cell("title")) or derive_title(text),
        text=text,
        structure=_parse_structure(structure) if structure.strip() else DEFAULT_STRUCTURE,
    )
    extra = _has_content(cells[width:])
    return _Candidate(line, draft, (EXTRA_CELLS,) if extra else ())


# Shared pieces


def derive_title(text: str) -> str:
    """A title from the text's first sentence or line, for prompts written without one.

    Cut at a word boundary with an ellipsis so the thread name Discord shows still reads
    as words, and never longer than the limit so a derived title is never itself rejected.
    """
    first_line = text.strip().split("\n", 1)[0]
    match = _FIRST_SENTENCE.match(first_line)
    return _shorten(_one_line(match.group(1) if match else first_line))


def _shorten(title: str, limit: int = limits.MAX_PROMPT_TITLE_CHARS) -> str:
    """Trim to ``limit`` characters including the ellipsis, preferring a whole-word cut."""
    if len(title) <= limit:
        return title
    cut = title[: limit - len(_ELLIPSIS)]
    if not title[len(cut)].isspace():
        whole_words = _PARTIAL_WORD.sub("", cut)
        cut = whole_words if whole_words.strip() else cut
    return cut.rstrip(" ,;:-–—") + _ELLIPSIS


def _one_line(value: str) -> str:
    """Collapse runs of whitespace, since a title becomes a one-line thread name."""
    return " ".join(value.split())


def _clean_text(value: str) -> str:
    """Trim trailing spaces on each line and blank edges, keeping paragraph breaks inside."""
    return "\n".join(line.rstrip() for line in value.split("\n")).strip()


def _parse_structure(value: str) -> tuple[str, ...]:
    """Split ``A | B | C`` into headings; empty ones are kept so validation can name them."""
    return tuple(part.strip() for part in value.split("|"))


def _dedupe_key(text: str) -> str:
    """Texts differing only in case or spacing are the same prompt to a reader."""
    return _one_line(text).casefold()


def _judge(candidates: list[_Candidate]) -> ImportResult:
    """Validate every candidate and drop repeats, keeping the first of each text."""
    drafts: list[PromptDraft] = []
    rejected: list[Rejection] = []
    first_seen: dict[str, int] = {}
    for candidate in candidates:
        reasons = [*candidate.problems, *prompt_problems(candidate.draft)]
        earlier = first_seen.get(_dedupe_key(candidate.draft.text))
        if earlier is not None:
            reasons.append(f"the same prompt text appears earlier in the file (line {earlier})")
        if reasons:
            rejected.append(Rejection(candidate.line, "; ".join(reasons)))
        else:
            first_seen[_dedupe_key(candidate.draft.text)] = candidate.line
            drafts.append(candidate.draft)
    return ImportResult(drafts=tuple(drafts), rejected=tuple(rejected))
