"""Tests for reading a facilitator's uploaded prompt bank into drafts and rejections."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import limits
from bot.core.prompt_import import (
    EMPTY_FILE,
    EXTRA_CELLS,
    MANY_STRUCTURES,
    MISSING_TEXT_COLUMN,
    NO_PROMPTS,
    NOT_UTF8,
    TOO_LARGE,
    WRONG_EXTENSION,
    ImportResult,
    Rejection,
    derive_title,
    parse_prompt_file,
)
from bot.core.prompts import DEFAULT_STRUCTURE, PromptDraft, prompt_problems


def whole_file(reason: str) -> ImportResult:
    """The result every whole-file problem gives: nothing imported, one line-0 rejection."""
    return ImportResult(drafts=(), rejected=(Rejection(0, reason),))


# Whole-file problems


@pytest.mark.parametrize("filename", ["bank.pdf", "bank.docx", "bank", "bank.txt.exe", "csv"])
def test_wrong_extension_is_rejected(filename: str) -> None:
    assert parse_prompt_file(filename, b"# A\nWhat happened?") == whole_file(WRONG_EXTENSION)


@pytest.mark.parametrize("filename", ["BANK.TXT", "Bank.Md", "bank.CSV"])
def test_extension_is_case_insensitive(filename: str) -> None:
    result = parse_prompt_file(filename, b"text\nWhat happened?\n")
    assert len(result.drafts) == 1


def test_oversized_file_is_rejected() -> None:
    data = b"a" * (limits.MAX_IMPORT_BYTES + 1)
    assert parse_prompt_file("bank.txt", data) == whole_file(TOO_LARGE)


def test_file_at_the_size_limit_is_read() -> None:
    data = b"What happened? " + b"a" * (limits.MAX_IMPORT_BYTES - 15)
    assert len(data) == limits.MAX_IMPORT_BYTES
    result = parse_prompt_file("bank.txt", data)
    assert result.rejected[0].line == 1  # read as one prompt, too long to store
    assert "longer than" in result.rejected[0].reason


@pytest.mark.parametrize("data", [b"", b"   \n\n\t\r\n", b"\xef\xbb\xbf"])
def test_empty_file_is_rejected(data: bytes) -> None:
    assert parse_prompt_file("bank.txt", data) == whole_file(EMPTY_FILE)
    assert parse_prompt_file("bank.csv", data) == whole_file(EMPTY_FILE)


def test_file_of_only_separators_has_no_prompts() -> None:
    assert parse_prompt_file("bank.md", b"---\n\n---\n\n---\n") == whole_file(NO_PROMPTS)


def test_latin1_bytes_are_not_utf8() -> None:
    data = "Qu'avez-vous ressenti à ce moment-là ?".encode("latin-1")
    result = parse_prompt_file("bank.txt", data)
    assert result == whole_file(NOT_UTF8)
    assert result.rejected[0].reason == "the file is not UTF-8 text; save it as UTF-8 and try again"


def test_png_bytes_are_not_text() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
    assert parse_prompt_file("bank.txt", png) == whole_file(NOT_UTF8)
    assert parse_prompt_file("bank.csv", png) == whole_file(NOT_UTF8)


def test_nul_bytes_mark_a_binary_file_even_if_valid_utf8() -> None:
    assert parse_prompt_file("bank.txt", b"What happened?\x00\x00") == whole_file(NOT_UTF8)


# Text and Markdown: separators and blocks


def test_blocks_split_on_blank_line_delimited_separators() -> None:
    data = b"# First\nWhat happened?\n\n---\n\n# Second\nWhat surprised you?\n"
    result = parse_prompt_file("bank.txt", data)
    assert result.rejected == ()
    assert result.drafts == (
        PromptDraft("First", "What happened?"),
        PromptDraft("Second", "What surprised you?"),
    )


def test_separator_may_have_surrounding_whitespace() -> None:
    data = b"One prompt?\n  \n   ---  \n\t\nAnother prompt?"
    result = parse_prompt_file("bank.md", data)
    assert [d.text for d in result.drafts] == ["One prompt?", "Another prompt?"]


def test_dashes_without_blank_lines_stay_in_the_text() -> None:
    data = b"# Rule\nAbove the line\n---\nBelow the line\n\n---\n\nNext?"
    result = parse_prompt_file("bank.md", data)
    assert result.drafts[0].text == "Above the line\n---\nBelow the line"
    assert result.drafts[1].text == "Next?"


def test_four_dashes_are_not_a_separator() -> None:
    result = parse_prompt_file("bank.txt", b"First?\n\n----\n\nSecond?")
    assert len(result.drafts) == 1
    assert result.drafts[0].text == "First?\n\n----\n\nSecond?"


def test_separators_at_file_start_and_end_and_empty_blocks_are_ignored() -> None:
    data = b"---\n\n# A\nWhat happened?\n\n---\n\n   \n\n---\n\n---\n\n# B\nWhy?\n\n---\n"
    result = parse_prompt_file("bank.txt", data)
    assert result.rejected == ()
    assert [d.title for d in result.drafts] == ["A", "B"]


def test_internal_paragraph_breaks_kept_and_trailing_whitespace_trimmed() -> None:
    data = b"\n\n# Title  \n\nFirst paragraph.   \nSame paragraph.\t\n\n\nSecond paragraph.  \n\n\n"
    (draft,) = parse_prompt_file("bank.txt", data).drafts
    assert draft.title == "Title"
    assert draft.text == "First paragraph.\nSame paragraph.\n\n\nSecond paragraph."


# Text and Markdown: titles


@pytest.mark.parametrize(
    ("first_line", "title"),
    [
        ("# A heading", "A heading"),
        ("### Level three", "Level three"),
        ("## Closed heading ##", "Closed heading"),
        ("# Learning C#", "Learning C#"),
        ("Title: Colon title", "Colon title"),
        ("TITLE:   Shouting title  ", "Shouting title"),
        ("title : spaced", "spaced"),
    ],
)
def test_explicit_titles(first_line: str, title: str) -> None:
    data = f"\n{first_line}\nWhat happened?\n".encode()
    (draft,) = parse_prompt_file("bank.md", data).drafts
    assert (draft.title, draft.text) == (title, "What happened?")


def test_title_line_later_in_the_block_is_text() -> None:
    (draft,) = parse_prompt_file("bank.txt", b"Reflect on this.\nTitle: not a title").drafts
    assert draft.title == "Reflect on this."
    assert draft.text == "Reflect on this.\nTitle: not a title"


def test_derived_title_is_the_first_sentence() -> None:
    data = b"What happened in supervision? Describe it in detail.\nThen reflect."
    (draft,) = parse_prompt_file("bank.txt", data).drafts
    assert draft.title == "What happened in supervision?"
    assert draft.text == "What happened in supervision? Describe it in detail.\nThen reflect."


def test_derived_title_is_the_first_line_without_a_sentence_end() -> None:
    (draft,) = parse_prompt_file("bank.txt", b"A moment of doubt\nWhat did you notice?").drafts
    assert draft.title == "A moment of doubt"


def test_derived_title_ignores_dots_inside_words() -> None:
    assert derive_title("Version 2.0 of the plan. More here.") == "Version 2.0 of the plan."


def test_derived_title_is_trimmed_at_a_word_boundary() -> None:
    words = "Think about a time when a client said something that stayed with you for days after"
    assert len(words) > limits.MAX_PROMPT_TITLE_CHARS
    (draft,) = parse_prompt_file("bank.txt", words.encode()).drafts
    assert (
        draft.title
        == "Think about a time when a client said something that stayed with you for days…"
    )
    assert len(draft.title) <= limits.MAX_PROMPT_TITLE_CHARS
    assert draft.text == words


def test_derived_title_cut_drops_a_partial_word_and_trailing_comma() -> None:
    text = "a" * 70 + ", bbbbbbbbbbbbbbbbbbbb"
    assert derive_title(text) == "a" * 70 + "…"


def test_derived_title_of_one_long_word_is_cut_hard() -> None:
    title = derive_title("x" * 200)
    assert title == "x" * (limits.MAX_PROMPT_TITLE_CHARS - 1) + "…"
    assert len(title) == limits.MAX_PROMPT_TITLE_CHARS


def test_derived_title_collapses_whitespace() -> None:
    assert derive_title("  What\t\thappened   here?  ") == "What happened here?"


# Text and Markdown: structure


def test_structure_line_sets_structure_and_is_removed() -> None:
    data = b"# Feelings\nStructure: Feelings? | Evaluation | Action plan\nHow did it feel?"
    (draft,) = parse_prompt_file("bank.txt", data).drafts
    assert draft.structure == ("Feelings?", "Evaluation", "Action plan")
    assert draft.text == "How did it feel?"


def test_structure_line_anywhere_and_any_case() -> None:
    data = b"How did it feel?\n\nsTrUcTuRe :  One|Two  \n"
    (draft,) = parse_prompt_file("bank.txt", data).drafts
    assert draft.structure == ("One", "Two")
    assert draft.text == "How did it feel?"
    assert draft.title == "How did it feel?"


def test_structure_line_first_does_not_become_the_title() -> None:
    data = b"Structure: A | B\n# Heading\nText?"
    (draft,) = parse_prompt_file("bank.txt", data).drafts
    assert (draft.title, draft.text, draft.structure) == ("Heading", "Text?", ("A", "B"))


def test_default_structure_without_a_structure_line() -> None:
    (draft,) = parse_prompt_file("bank.txt", b"What happened?").drafts
    assert draft.structure == DEFAULT_STRUCTURE


def test_two_structure_lines_are_rejected() -> None:
    data = b"Structure: A | B\nWhat happened?\nStructure: C\n"
    result = parse_prompt_file("bank.txt", data)
    assert result.drafts == ()
    assert result.rejected == (Rejection(1, MANY_STRUCTURES),)


# Line endings and BOM


def test_crlf_line_endings() -> None:
    data = b"# A\r\nWhat happened?\r\nAnd then?\r\n\r\n---\r\n\r\n# B\r\nWhy?\r\n"
    result = parse_prompt_file("bank.txt", data)
    assert result.drafts == (
        PromptDraft("A", "What happened?\nAnd then?"),
        PromptDraft("B", "Why?"),
    )


def test_cr_line_endings_and_line_numbers() -> None:
    data = b"# A\rWhat happened?\r\r---\r\r# B\r\r---\r\rWhy?"
    result = parse_prompt_file("bank.txt", data)
    assert result.drafts == (PromptDraft("A", "What happened?"), PromptDraft("Why?", "Why?"))
    assert result.rejected == (Rejection(6, "the prompt text is empty"),)


def test_bom_is_stripped_before_the_title() -> None:
    data = b"\xef\xbb\xbf# Opening\r\nWhat happened?"
    (draft,) = parse_prompt_file("bank.md", data).drafts
    assert draft.title == "Opening"


def test_bom_is_stripped_from_a_derived_title() -> None:
    (draft,) = parse_prompt_file("bank.txt", b"\xef\xbb\xbfWhat happened?").drafts
    assert draft.title == "What happened?"


# Validation and duplicates


def test_problems_are_joined_and_placed_at_the_block_start() -> None:
    long_title = "T" * (limits.MAX_PROMPT_TITLE_CHARS + 1)
    data = (
        f"# Good\nFine?\n\n---\n\n\n\nTitle: {long_title}\nStructure: 1|2|3|4|5|6\nText?\n"
    ).encode()
    result = parse_prompt_file("bank.txt", data)
    assert result.drafts == (PromptDraft("Good", "Fine?"),)
    assert result.rejected == (
        Rejection(
            8,
            "the title is longer than 80 characters; the structure needs 1 to 5 headings",
        ),
    )


def test_heading_without_text_is_rejected() -> None:
    result = parse_prompt_file("bank.md", b"# Lonely heading\n\n")
    assert result.rejected == (Rejection(1, "the prompt text is empty"),)


def test_empty_heading_is_rejected() -> None:
    result = parse_prompt_file("bank.md", b"#\nWhat happened?")
    assert result.rejected == (Rejection(1, "the title is empty"),)


def test_too_long_text_and_bad_heading_are_rejected() -> None:
    text = "word " * 400
    data = f"Structure: A | | C\n{text}".encode()
    (rejection,) = parse_prompt_file("bank.txt", data).rejected
    assert rejection.line == 1
    assert rejection.reason == (
        "the prompt text is longer than 1500 characters; "
        "each structure heading needs 1 to 45 characters"
    )


def test_duplicate_texts_keep_the_first() -> None:
    data = b"# A\nWhat happened?\n\n---\n\n# B\nWhat happened?\n\n---\n\n# C\nwhat  HAPPENED?\n"
    result = parse_prompt_file("bank.txt", data)
    assert result.drafts == (PromptDraft("A", "What happened?"),)
    reason = "the same prompt text appears earlier in the file (line 1)"
    assert result.rejected == (Rejection(6, reason), Rejection(11, reason))


def test_duplicate_of_a_rejected_prompt_is_kept() -> None:
    data = b"#\nWhat happened?\n\n---\n\n# Named\nWhat happened?\n"
    result = parse_prompt_file("bank.txt", data)
    assert result.drafts == (PromptDraft("Named", "What happened?"),)
    assert result.rejected == (Rejection(1, "the title is empty"),)


# CSV


def test_csv_with_all_columns() -> None:
    data = b"title,text,structure\nOpening,What happened?,Feelings | Actions\n"
    result = parse_prompt_file("bank.csv", data)
    assert result == ImportResult(
        drafts=(PromptDraft("Opening", "What happened?", ("Feelings", "Actions")),),
        rejected=(),
    )


def test_csv_headers_are_case_insensitive_trimmed_and_in_any_order() -> None:
    data = b"  Structure , TEXT ,Notes, Title\n,What happened?,ignored,Opening\n"
    (draft,) = parse_prompt_file("bank.csv", data).drafts
    assert draft == PromptDraft("Opening", "What happened?", DEFAULT_STRUCTURE)


def test_csv_text_only_derives_titles() -> None:
    data = b"text\nWhat happened? Tell us.\nA moment of doubt\n"
    result = parse_prompt_file("bank.csv", data)
    assert [d.title for d in result.drafts] == ["What happened?", "A moment of doubt"]


def test_csv_empty_title_cell_derives_a_title() -> None:
    data = b"title,text\n  ,What happened? Tell us.\n"
    (draft,) = parse_prompt_file("bank.csv", data).drafts
    assert draft.title == "What happened?"


def test_csv_missing_text_header_is_a_whole_file_problem() -> None:
    result = parse_prompt_file("bank.csv", b"title,prompt\nA,What happened?\n")
    assert result == whole_file(MISSING_TEXT_COLUMN)
    assert '"text"' in result.rejected[0].reason


def test_csv_semicolons_are_not_a_text_header() -> None:
    result = parse_prompt_file("bank.csv", b"title;text\nA;What happened?\n")
    assert result == whole_file(MISSING_TEXT_COLUMN)


def test_csv_header_only_has_no_prompts() -> None:
    assert parse_prompt_file("bank.csv", b"title,text\n\n,\n") == whole_file(NO_PROMPTS)


def test_csv_empty_rows_are_ignored_and_line_numbers_count_them() -> None:
    data = b"\ntitle,text\n\n , \n,,,\nA,\n"
    result = parse_prompt_file("bank.csv", data)
    assert result.rejected == (Rejection(6, "the prompt text is empty"),)


def test_csv_multiline_cells_give_correct_line_numbers() -> None:
    data = (
        b"title,text\n"  # 1
        b'A,"line one\n'  # 2
        b"\n"  # 3
        b'line three"\n'  # 4
        b"B,\n"  # 5
        b'C,"two\n'  # 6
        b'lines"\n'  # 7
        b'D,"line one\n'  # 8
        b"\n"  # 9
        b'line three"\n'  # 10
    )
    result = parse_prompt_file("bank.csv", data)
    assert [d.title for d in result.drafts] == ["A", "C"]
    assert result.drafts[0].text == "line one\n\nline three"
    assert result.rejected == (
        Rejection(5, "the prompt text is empty"),
        Rejection(8, "the same prompt text appears earlier in the file (line 2)"),
    )


def test_csv_round_trips_commas_quotes_emoji_and_newlines() -> None:
    text = 'She said "enough", and left 😔.\n\nWhat did you do next?'
    data = ('title,text\r\n"Commas, ""quotes"" 🌱","' + text.replace('"', '""') + '"\r\n').encode()
    (draft,) = parse_prompt_file("bank.csv", data).drafts
    assert draft.title == 'Commas, "quotes" 🌱'
    assert draft.text == text


def test_csv_crlf_inside_quoted_cell_becomes_newline() -> None:
    data = b'text\r\n"First line\r\nSecond line"\r\nNext?\r\n'
    result = parse_prompt_file("bank.csv", data)
    assert [d.text for d in result.drafts] == ["First line\nSecond line", "Next?"]


def test_csv_with_bom_reads_the_header() -> None:
    (draft,) = parse_prompt_file("bank.csv", b"\xef\xbb\xbftext\nWhat happened?\n").drafts
    assert draft.text == "What happened?"


def test_csv_space_after_comma_before_quote() -> None:
    (draft,) = parse_prompt_file("bank.csv", b'title, text\nA, "Commas, here?"\n').drafts
    assert draft == PromptDraft("A", "Commas, here?")


def test_csv_structure_cell_and_bad_structure() -> None:
    data = b"text,structure\nFirst?,One|Two|Three\nSecond?,1|2|3|4|5|6\nThird?,  \n"
    result = parse_prompt_file("bank.csv", data)
    assert [d.structure for d in result.drafts] == [("One", "Two", "Three"), DEFAULT_STRUCTURE]
    assert result.rejected == (Rejection(3, "the structure needs 1 to 5 headings"),)


def test_csv_unquoted_comma_gives_extra_cells() -> None:
    data = b"title,text\nA,What happened, and why?\nB,Fine?,,\n"
    result = parse_prompt_file("bank.csv", data)
    assert result.drafts == (PromptDraft("B", "Fine?"),)
    assert result.rejected == (Rejection(2, EXTRA_CELLS),)


def test_csv_short_rows_count_missing_cells_as_empty() -> None:
    result = parse_prompt_file("bank.csv", b"text,title\nWhat happened?\n")
    assert result.drafts == (PromptDraft("What happened?", "What happened?"),)


def test_csv_unclosed_quote_is_a_whole_file_problem_with_its_line() -> None:
    data = b'text\nFine?\n"Never closed\nstill going\n'
    (rejection,) = parse_prompt_file("bank.csv", data).rejected
    assert rejection.line == 0
    assert "line 3" in rejection.reason
    assert parse_prompt_file("bank.csv", data).drafts == ()


def test_csv_stray_quote_is_a_whole_file_problem() -> None:
    result = parse_prompt_file("bank.csv", b'text\nFine?\n"Quoted" then more\n')
    assert result.drafts == ()
    assert result.rejected[0].line == 0
    assert "line 3" in result.rejected[0].reason


def test_csv_field_over_the_csv_module_limit_is_a_whole_file_problem() -> None:
    data = b'text\n"' + b"a" * 140_000 + b'"\n'
    result = parse_prompt_file("bank.csv", data)
    assert result.drafts == ()
    assert result.rejected[0].line == 0


def test_csv_headings_in_a_txt_file_are_just_text() -> None:
    (draft,) = parse_prompt_file("bank.txt", b"title,text\nA,What happened?").drafts
    assert draft.text == "title,text\nA,What happened?"


# Property: any bytes, any filename


_FRAGMENTS = [
    "---",
    "",
    "   ",
    "# Heading",
    "Title: x",
    "Structure: a | b",
    "Structure:",
    "title,text,structure",
    '"',
    '""',
    ",",
    "|",
    "\r",
    "\r\n",
    "\ufeff",
    "\x00",
    "é",
    "😔",
    "x" * 90,
    "word " * 30,
]

_text_like_bytes = st.lists(
    st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=20)), max_size=40
).map(lambda parts: "\n".join(parts).encode("utf-8"))


@settings(max_examples=400, deadline=None)
@given(
    filename=st.sampled_from(["a.txt", "a.md", "a.csv", "a.pdf"]),
    data=st.one_of(st.binary(max_size=2048), _text_like_bytes),
)
def test_any_input_gives_a_well_formed_result(filename: str, data: bytes) -> None:
    result = parse_prompt_file(filename, data)
    assert isinstance(result, ImportResult)
    assert all(prompt_problems(draft) == [] for draft in result.drafts)
    assert all(r.line >= 0 and r.reason.strip() for r in result.rejected)
    if filename == "a.pdf":
        assert result == whole_file(WRONG_EXTENSION)
