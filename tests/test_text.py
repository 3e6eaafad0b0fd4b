"""What counts as a word, and when two names are one name (``bot/core/text.py``)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.text import _WORD, _strip_uncounted, count_words, name_key, tidy_line

# Characters that show nothing (or only a blank gap) and must never make a word.
FILLERS = [
    "\u3164",  # HANGUL FILLER (category Lo: `\w` takes it for a letter)
    "\uffa0",  # HALFWIDTH HANGUL FILLER (Lo)
    "\u115f",  # HANGUL CHOSEONG FILLER (Lo)
    "\u1160",  # HANGUL JUNGSEONG FILLER (Lo)
    "\u2800",  # BRAILLE PATTERN BLANK
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",  # zero-width space, joiners, marks
    "\u2060", "\u2061", "\u2062", "\u2063", "\u2064",  # word joiner, invisible operators
    "\ufeff", "\u180e", "\u00ad", "\u061c", "\u202e",  # BOM, Mongolian vowel sep., soft hyphen
    "\u034f",  # COMBINING GRAPHEME JOINER
    "\ufe0f", "\ufe00", "\U000e0100",  # variation selectors
    "\U000e0001", "\U000e0041", "\U000e007f",  # tag characters
    "\u0301", "\u0489", "\u093e",  # lone combining marks (Mn, Me, Mc)
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", 0),
        ("I listened, then I asked.", 5),
        ("don't stop-it 2026", 3),
        ("cafe\u0301 au lait", 3),  # decomposed é
        ("na\u0308ive Übung", 2),
        ("नमस्ते दुनिया", 2),  # Hindi: virama and vowel signs are marks
        ("مَرْحَبًا بِكُمْ", 2),  # Arabic with harakat
        ("สวัสดีครับ ผม", 2),  # Thai vowel and tone marks
        ("안녕하세요 여러분", 2),  # Hangul syllables
        ("\u1100\u1161\u11a8 \u1112\u1161\u11ab", 2),  # conjoining jamo forming syllables
        ("\u115f\u1161 \u1100\u1160\u11a8", 2),  # syllables using a filler as placeholder
        ("می\u200cخواهم", 1),  # Persian: the zero-width non-joiner is inside the word
        ("h\u0337\u0322e\u0335l\u0336l\u0338o\u0334", 1),  # "zalgo" marks do not split
        ("w\u200bo\u200br\u200bd", 1),  # zero-width spaces do not split either
        ("hello\u3164world", 2),  # a Hangul filler shows as a gap
        ("🙂 👍🏽 👩\u200d💻 ****", 0),
        ("\u3164 " * 50, 0),
        ("".join(FILLERS), 0),
        (" ".join(FILLERS), 0),
    ],
)
def test_count_words(text, words):
    assert count_words(text) == words


def test_count_words_none():
    assert count_words(None) == 0


# ------------------------------------------------------------------------- properties

LETTERS = st.characters(
    categories=["Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No"],
    exclude_characters="\u3164\uffa0\u115f\u1160",
)
MARKS = st.characters(categories=["Mn", "Mc", "Me"])
INVISIBLE = st.one_of(st.sampled_from(FILLERS), st.characters(categories=["Cf", "Mn", "Me"]))
NOT_WORDS = st.one_of(
    INVISIBLE, st.characters(categories=["Zs", "Pc", "Pd", "Ps", "Pe", "Po", "Sm", "Sc", "So"])
)
WORD = st.tuples(LETTERS, st.lists(st.one_of(LETTERS, MARKS), max_size=6)).map(
    lambda parts: parts[0] + "".join(parts[1]),
)


@settings(max_examples=150)
@given(st.lists(WORD, max_size=20))
def test_words_with_their_marks_count_once_each(words):
    assert count_words(" ".join(words)) == len(words)


@settings(max_examples=150)
@given(st.text(NOT_WORDS, max_size=200))
def test_fillers_marks_punctuation_and_symbols_alone_are_no_words(text):
    assert count_words(text) == 0


@settings(max_examples=150)
@given(st.text(max_size=200), st.lists(st.tuples(st.integers(0, 200), INVISIBLE), max_size=10))
def test_invisible_characters_change_no_count(text, insertions):
    padded = text
    for at, char in insertions:
        if char not in "\u3164\uffa0\u2800":  # these show as gaps: tested above
            padded = padded[:at] + char + padded[at:]
    assert count_words(padded) == count_words(text)


@settings(max_examples=150)
@given(st.text(max_size=200))
def test_composed_and_decomposed_text_count_alike(text):
    assert count_words(unicodedata.normalize("NFD", text)) == count_words(
        unicodedata.normalize("NFC", text)
    )


# ------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "variant",
    [
        "Autumn",
        "autumn",
        "  AUTUMN ",
        "ＡＵＴＵＭＮ",  # fullwidth
        "Au\u200btumn",
        "\u200eAutumn\u2060",
        "Autumn\ufe0f",
        "A\u034fu\u00adtumn",
        "Au\U000e0041tumn",  # a tag character
    ],
)
def test_names_that_look_alike_fold_alike(variant):
    assert name_key(variant) == name_key("Autumn") == "autumn"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Café", "Cafe\u0301"),
        ("Cafe\u200d\u0301", "Café"),  # a joiner must not keep the accent apart
        ("Autumn  2026", "autumn 2026"),
        ("Straße", "STRASSE"),
        ("Autumn\u3164Group", "autumn group"),  # a Hangul filler shows as a gap
        ("ｶﾀｶﾅ", "カタカナ"),  # halfwidth katakana
    ],
)
def test_same_name_pairs(one, other):
    assert name_key(one) == name_key(other)


@pytest.mark.parametrize(("one", "other"), [("Autumn", "Autumn 2"), ("Cafe", "Café")])
def test_different_names_stay_different(one, other):
    assert name_key(one) != name_key(other)


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_folding_twice_changes_nothing(text):
    assert name_key(name_key(text)) == name_key(text)
    assert name_key(tidy_line(text)) == name_key(text)


@settings(max_examples=150)
@given(st.text(max_size=60), st.lists(st.tuples(st.integers(0, 60), INVISIBLE), max_size=6))
def test_invisible_format_characters_do_not_make_a_new_name(text, insertions):
    padded = text
    for at, char in insertions:
        if unicodedata.category(char) == "Cf" or char in "\u115f\u1160\ufe0f\U000e0100":
            padded = padded[:at] + char + padded[at:]
    assert name_key(padded) == name_key(text)


def test_tidy_line_keeps_what_shows_and_drops_what_does_not():
    assert tidy_line("  Au\u200btumn\u202e  \u3164 2026 ") == "Autumn 2026"
    assert tidy_line("Cafe\u0301") == "Café"
    assert tidy_line("👩\u200d💻 می\u200cخواهم") == "👩\u200d💻 می\u200cخواهم"
    assert tidy_line("❤\ufe0f") == "❤\ufe0f"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab1 '-.,\n_’é", max_size=40))
def test_ascii_word_count_is_the_pattern_count(text: str) -> None:
    """ASCII texts are counted with bytes; the count is the one the word pattern gives."""
    assert count_words(text) == len(_WORD.findall(_strip_uncounted(text)))
