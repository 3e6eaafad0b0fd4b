"""The participation chart: a members × rounds heatmap as PNG bytes.

Platform-neutral and pure. The whole picture — title, legend, cells, names, round labels —
is painted into a pixel array with numpy and drawn as text with Pillow's FreeType, then
encoded by Pillow: no plotting library. That keeps a 500 × 52 chart to a few hundred
milliseconds of work, mostly in C calls that let go of the GIL, and the bot's start-up
free of a plotting library's imports. The bot calls :func:`render_heatmap_async`, which
renders in a worker thread.

Colours come from the Okabe–Ito palette, which stays distinct under the common forms of
colour blindness: on time is bluish green, late sky blue, too short yellow, missing
vermilion. "Missing", "not yet" and "excused" also carry a hatch pattern, so every status
can be told apart in greyscale print too; the number in a hatched cell sits on a small
plain patch so the hatch never runs through it.

Text is set in DejaVu Sans (shipped in ``bot/core/fonts``, with its licence) with Noto
Sans CJK (from the ``noto-cjk-sans-jp-regular`` package, no network needed) as the
fallback, character by character, for Chinese, Japanese and Korean; only what neither
font has (emoji, mostly) is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import math
import struct
import threading
import zlib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont

Status = Literal["on_time", "late", "short", "missing", "not_yet", "excused"]
# short = reflection posted but under the cohort's minimum; not_yet = nothing so far,
# but the reflection deadline is still ahead

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Cell:
    status: Status
    feedback_given: int  # counted feedback this member gave in this round


@dataclass(frozen=True, slots=True)
class ParticipationGrid:
    title: str  # e.g. "Autumn 2026 · participation"
    round_labels: tuple[str, ...]  # e.g. ("R1\n5 Jan", "R2\n12 Jan", ...), oldest first
    member_names: tuple[str, ...]  # display names, in row order
    cells: tuple[tuple[Cell, ...], ...]  # one row per member, one cell per round


# Legend order: best to worst, then the neutral "not yet" and "excused".
STATUS_LABELS: dict[Status, str] = {
    "on_time": "On time",
    "late": "Late",
    "short": "Too short",
    "missing": "Missing",
    "not_yet": "Not yet",
    "excused": "Excused",
}

# Okabe–Ito colours (not yet is white, excused a neutral light grey). Greyscale luma, for
# reference: on_time 106, missing 119 (+ cross-hatch), late 158, short 213, excused 221
# (+ diagonals), not_yet 255 (+ horizontal lines).
STATUS_COLOURS: dict[Status, str] = {
    "on_time": "#009E73",  # bluish green
    "late": "#56B4E9",  # sky blue
    "short": "#F0E442",  # yellow
    "missing": "#D55E00",  # vermilion
    "not_yet": "#FFFFFF",  # white
    "excused": "#DDDDDD",  # light grey
}
_HATCHES: dict[Status, str] = {"missing": "x", "not_yet": "--", "excused": "///"}
_HATCH_COLOURS: dict[Status, str] = {
    "missing": "#6E2F00",
    "not_yet": "#A6A6A6",
    "excused": "#8C8C8C",
}
COUNTS_TITLE = "Number in each cell: feedback given that counted"
_ORDER: tuple[Status, ...] = tuple(STATUS_LABELS)

# ---------------------------------------------------------------------------- sizing
# width  = BASE_WIDTH  + CELL_WIDTH  * rounds,   clamped to [MIN_WIDTH, MAX_WIDTH]
# height = BASE_HEIGHT + CELL_HEIGHT * members,  clamped to [MIN_HEIGHT, MAX_HEIGHT]
# in inches, rounded to the nearest quarter inch, at DPI dots per inch. A quarter inch
# is exactly representable in binary floating point, so the PNG is exactly
# round(width * DPI) × round(height * DPI) pixels with no off-by-one truncation.
DPI = 100
BASE_WIDTH = 2.5  # member names and the "Member" label
CELL_WIDTH = 0.45  # room for a date such as "12 Oct" under the round number
BASE_HEIGHT = 1.5  # title, legend, round labels and the "Round" label
CELL_HEIGHT = 0.3
MIN_WIDTH, MAX_WIDTH = 6.5, 24.0
MIN_HEIGHT, MAX_HEIGHT = 2.0, 40.0
EMPTY_SIZE = (5.0, 2.0)

_LEGEND_HEIGHT = 0.5  # inches: the legend's row, inside BASE_HEIGHT
MAX_NAME_CHARS = 24
_TITLE_PT, _EMPTY_TITLE_PT = 13, 12
_MIN_COUNT_PT = 4.5  # below this (a huge, clamped grid) the cells carry no numbers
MAX_ROUND_LABEL_CHARS = 12


def _quarter(x: float) -> float:
    return round(x * 4) / 4


def figure_size(n_members: int, n_rounds: int) -> tuple[float, float]:
    """The figure's (width, height) in inches for a grid of this shape."""
    if n_members <= 0 or n_rounds <= 0:
        return EMPTY_SIZE
    width = min(max(BASE_WIDTH + CELL_WIDTH * n_rounds, MIN_WIDTH), MAX_WIDTH)
    height = min(max(BASE_HEIGHT + CELL_HEIGHT * n_members, MIN_HEIGHT), MAX_HEIGHT)
    return _quarter(width), _quarter(height)


def pixel_size(n_members: int, n_rounds: int) -> tuple[int, int]:
    """The PNG's (width, height) in pixels."""
    width, height = figure_size(n_members, n_rounds)
    return round(width * DPI), round(height * DPI)


def _px(points: float) -> float:
    """Points (1/72 inch) to pixels."""
    return points * DPI / 72


# ---------------------------------------------------------------------------- fonts
_FONT_DIR = Path(__file__).with_name("fonts")
REGULAR_FONT = _FONT_DIR / "DejaVuSans.ttf"
BOLD_FONT = _FONT_DIR / "DejaVuSans-Bold.ttf"


@cache
def cjk_font() -> Path | None:
    """Noto Sans CJK's file, when its package is installed."""
    try:
        from noto_cjk_sans_jp_regular import FONT_PATH
    except ImportError:
        log.warning("Noto Sans CJK is not installed: CJK names in charts can't be drawn")
        return None
    return Path(FONT_PATH)


def font_files(bold: bool = False) -> tuple[Path, ...]:
    """The fallback chain: DejaVu Sans, then Noto Sans CJK (which has no bold)."""
    cjk = cjk_font()
    return (BOLD_FONT if bold else REGULAR_FONT, *((cjk,) if cjk else ()))


@cache
def coverage(path: Path) -> frozenset[int]:
    """The code points a font file has a glyph for, from its Unicode ``cmap`` subtable.

    Read from the file's table directory (format 12, else format 4) rather than by asking
    FreeType glyph by glyph: Pillow has no call for that, and a set answers in O(1).
    """
    with path.open("rb") as file:
        (n_tables,) = struct.unpack(">4xH", file.read(6))
        file.seek(12)
        directory = file.read(16 * n_tables)
        for i in range(n_tables):
            tag, _, offset, length = struct.unpack_from(">4sIII", directory, 16 * i)
            if tag == b"cmap":
                file.seek(offset)
                return _cmap_codes(file.read(length))
    return frozenset()


def _cmap_codes(table: bytes) -> frozenset[int]:
    (count,) = struct.unpack_from(">H", table, 2)
    subtables = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", table, 4 + 8 * i)
        subtables[platform, encoding] = offset
    for key in ((3, 10), (0, 6), (0, 4)):
        if key in subtables and struct.unpack_from(">H", table, subtables[key])[0] == 12:
            return _format12(table, subtables[key])
    for key in ((3, 1), (0, 3), (0, 4)):
        if key in subtables and struct.unpack_from(">H", table, subtables[key])[0] == 4:
            return _format4(table, subtables[key])
    return frozenset()


def _format12(table: bytes, at: int) -> frozenset[int]:
    (groups,) = struct.unpack_from(">I", table, at + 12)
    codes: set[int] = set()
    for start, end, glyph in struct.iter_unpack(">III", table[at + 16 : at + 16 + 12 * groups]):
        codes.update(range(start + (glyph == 0), end + 1))
    return frozenset(codes)


def _format4(table: bytes, at: int) -> frozenset[int]:
    (seg2,) = struct.unpack_from(">H", table, at + 6)
    segs = seg2 // 2
    ends = struct.unpack_from(f">{segs}H", table, at + 14)
    starts = struct.unpack_from(f">{segs}H", table, at + 16 + seg2)
    deltas = struct.unpack_from(f">{segs}h", table, at + 16 + 2 * seg2)
    range_at = at + 16 + 3 * seg2
    offsets = struct.unpack_from(f">{segs}H", table, range_at)
    codes: set[int] = set()
    for i, (start, end, delta, offset) in enumerate(
        zip(starts, ends, deltas, offsets, strict=True)
    ):
        for code in range(start, min(end, 0xFFFE) + 1):
            if offset == 0:
                glyph = (code + delta) & 0xFFFF
            else:
                where = range_at + 2 * i + offset + 2 * (code - start)
                (glyph,) = struct.unpack_from(">H", table, where)
                glyph = (glyph + delta) & 0xFFFF if glyph else 0
            if glyph:
                codes.add(code)
    return frozenset(codes)


@lru_cache(maxsize=64)
def _font(path: Path, size_px: float) -> ImageFont.FreeTypeFont:
    # Basic layout (FreeType's own advances and kerning): the same picture whether or not
    # this Pillow build has libraqm.
    return ImageFont.truetype(str(path), size_px, layout_engine=ImageFont.Layout.BASIC)


def _font_has(char: str) -> bool:
    return any(ord(char) in coverage(path) for path in font_files())


def _runs(text: str, files: tuple[Path, ...]) -> list[tuple[Path, str]]:
    """``text`` cut where the font that can draw it changes (the first in ``files`` that
    has the character, else the first)."""
    if coverage(files[0]).issuperset(map(ord, text)):
        return [(files[0], text)]  # the usual case, in one set operation
    runs: list[tuple[Path, str]] = []
    for char in text:
        path = next((f for f in files if ord(char) in coverage(f)), files[0])
        if runs and runs[-1][0] == path:
            runs[-1] = (path, runs[-1][1] + char)
        else:
            runs.append((path, char))
    return runs


#: FreeType's faces are not safe to use from two threads at once, and the cached fonts are
#: shared by charts rendering side by side (two cohorts' digests); held per call.
_freetype = threading.Lock()


class Line:
    """One line of text in the fallback chain at a size in pixels: its width, and how to
    draw it with its baseline's left end at a point."""

    def __init__(self, text: str, size_px: float, *, bold: bool = False) -> None:
        self.runs = [(_font(path, size_px), part) for path, part in _runs(text, font_files(bold))]
        with _freetype:
            self.advances = [font.getlength(part) for font, part in self.runs]
            ascent, descent = _font(font_files(bold)[0], size_px).getmetrics()
        self.width = sum(self.advances)
        self.ascent, self.descent, self.em = ascent, descent, size_px

    @property
    def height(self) -> int:
        return self.ascent + self.descent

    def draw(self, draw: ImageDraw.ImageDraw, x: float, baseline: float, fill) -> None:
        for (font, part), advance in zip(self.runs, self.advances, strict=True):
            with _freetype:
                draw.text((x, baseline), part, font=font, fill=fill, anchor="ls")
            x += advance

    def mask(self) -> Image.Image:
        """The line's coverage as an ``L`` image, baseline ``ascent`` rows down."""
        mask = Image.new("L", (math.ceil(self.width) + 2, self.height))
        self.draw(ImageDraw.Draw(mask), 1, self.ascent, 255)
        return mask


# ---------------------------------------------------------------------------- text


def _truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _title_bold(title: str) -> bool:
    """Bold when DejaVu Sans Bold can draw the whole title; the CJK font has no bold, so a
    title it must help with is set regular throughout rather than in two weights."""
    return all(c.isspace() or ord(c) in coverage(BOLD_FONT) for c in title)


def _drawable(text: str) -> str:
    """Drop characters the font cannot draw (emoji, mostly) rather than show tofu boxes."""
    if coverage(REGULAR_FONT).issuperset(map(ord, text)):
        return " ".join(text.split())
    return " ".join("".join(c for c in text if c.isspace() or _font_has(c)).split())


def _label(name: str, fallback: str, limit: int) -> str:
    return _truncate(_drawable(name), limit) or fallback


def member_labels(grid: ParticipationGrid) -> list[str]:
    """The names as drawn: what the fonts can't draw dropped, long ones shortened."""
    return [
        _label(name, f"Member {i + 1}", MAX_NAME_CHARS) for i, name in enumerate(grid.member_names)
    ]


def round_labels(grid: ParticipationGrid) -> list[str]:
    """Each line of a round label (number, date) cleaned and shortened on its own."""
    return [
        "\n".join(
            line
            for line in (_label(part, "", MAX_ROUND_LABEL_CHARS) for part in label.split("\n"))
            if line
        )
        or str(i + 1)
        for i, label in enumerate(grid.round_labels)
    ]


_NAMED = {"black": (0, 0, 0), "white": (255, 255, 255)}


def _rgb255(colour: str) -> tuple[int, int, int]:
    """``#RRGGBB`` (or black, white) as 0–255 channels."""
    if colour in _NAMED:
        return _NAMED[colour]
    value = int(colour.removeprefix("#"), 16)
    return value >> 16, (value >> 8) & 0xFF, value & 0xFF


def _relative_luminance(colour: str) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c / 255) for c in _rgb255(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@cache
def text_colour(background: str) -> str:
    """Black or white, whichever has the higher WCAG contrast against ``background``."""
    lum = _relative_luminance(background)
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


def count_groups(grid: ParticipationGrid) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """The number each cell shows, grouped by (text, colour) into (column, row) lists.

    Every cell shows its count of feedback given that counted, 0 included, whatever its
    status: a blank would read as "no data", and a missing member may still have given
    feedback.
    """
    groups: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for r, row in enumerate(grid.cells):
        for c, cell in enumerate(row):
            key = (str(cell.feedback_given), text_colour(STATUS_COLOURS[cell.status]))
            groups.setdefault(key, []).append((c, r))
    return groups


# ---------------------------------------------------------------------------- render
#: zlib level for the PNG: 1–3 cost about the same here, and 3 makes the smallest file
#: (0.94 MB at 500 × 52, 1.26 MB at level 1); 6 (the default) takes far longer.
_PNG_COMPRESSION = 3
_PAD = round(_px(3))  # the figure's margin, and the gap between the title and the legend
_TICK_PAD = round(_px(3))  # between the grid and the names, and the round labels
_LABEL_PAD = round(_px(4))  # between those and the "Member" and "Round" labels
_AXIS_PT = 10
_LEGEND_PT, _LEGEND_TITLE_PT = 9, 8.5
_HANDLE = (round(_px(18)), round(_px(10)))  # a legend swatch, in pixels
_GREY_TEXT = (0x55, 0x55, 0x55)


def render_heatmap(grid: ParticipationGrid) -> bytes:
    """PNG bytes. Pure and CPU-bound: callers run it in a thread (asyncio.to_thread)."""
    n_members, n_rounds = _checked_shape(grid)
    width, height = figure_size(n_members, n_rounds)
    size = round(width * DPI), round(height * DPI)
    title_pt = _EMPTY_TITLE_PT if n_members == 0 or n_rounds == 0 else _TITLE_PT
    title = _label(grid.title, "Participation", int(width * 72 / (title_pt * 0.7)))
    if n_members == 0 or n_rounds == 0:
        image = Image.new("RGB", size, "white")
        _draw_empty(ImageDraw.Draw(image), title, size)
    else:
        image = _draw_grid(grid, title, width, height, size)
    return png_bytes(image)


def png_bytes(image: Image.Image) -> bytes:
    """An RGB image as PNG: rows unfiltered, deflated at :data:`_PNG_COMPRESSION`.

    Pillow's encoder spends ~190 ms choosing a filter for each row of a 2400 × 4000
    chart; a picture of flat colour packs as small without one (~0.9 MB), and
    ``zlib.compress`` lets go of the GIL while it works.
    """
    width, height = image.size
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0  # filter type: none
    rows[:, 1:] = np.asarray(image).reshape(height, 3 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows, _PNG_COMPRESSION)),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _checked_shape(grid: ParticipationGrid) -> tuple[int, int]:
    n_members, n_rounds = len(grid.member_names), len(grid.round_labels)
    if len(grid.cells) != n_members or any(len(row) != n_rounds for row in grid.cells):
        raise ValueError(
            f"grid cells must be {n_members} rows × {n_rounds} rounds, got "
            f"{[len(row) for row in grid.cells]}"
        )
    return n_members, n_rounds


def _draw_centred(draw: ImageDraw.ImageDraw, line: Line, x: float, y: float, fill) -> None:
    """``line`` centred on (x, y), its ascent and descent taken as its box."""
    line.draw(draw, x - line.width / 2, y - line.height / 2 + line.ascent, fill)


def _draw_empty(draw: ImageDraw.ImageDraw, title: str, size: tuple[int, int]) -> None:
    width, height = size
    heading = Line(title, _px(_EMPTY_TITLE_PT), bold=_title_bold(title))
    _draw_centred(draw, heading, width / 2, height * (1 - 0.68), "black")
    _draw_centred(draw, Line("No rounds yet", _px(11)), width / 2, height * (1 - 0.36), _GREY_TEXT)


@dataclass(frozen=True, slots=True)
class _Box:
    """Where the cells go, in pixels from the figure's top left."""

    left: int
    top: int
    width: int
    height: int


class _Decorations:
    """Everything drawn around the cells, measured before anything is placed: the title,
    the legend, the member names and "Member", the round labels and "Round"."""

    def __init__(self, grid: ParticipationGrid, title: str, cell_w: float, cell_h: float):
        n_members, n_rounds = len(grid.member_names), len(grid.round_labels)
        self.title = Line(title, _px(_TITLE_PT), bold=_title_bold(title))
        label_px = _px(max(5.0, min(9.0, cell_h * 72 * 0.45)))
        self.names = [Line(name, label_px) for name in member_labels(grid)]
        self.names_width = math.ceil(max(line.width for line in self.names))
        round_px = _px(max(5.0, min(9.0, cell_w * 72 * 0.4)))
        self.rounds = [
            [Line(part, round_px) for part in label.split("\n")] for label in round_labels(grid)
        ]
        longest = max(len(line) for label in round_labels(grid) for line in label.split("\n"))
        self.rotate = longest * round_px * 0.55 > cell_w * DPI * 0.95
        self.round_step = round_px * 1.1  # between a label's two lines
        self.round_masks = [self._rotated(lines) for lines in self.rounds] if self.rotate else []
        self.member = Line("Member", _px(_AXIS_PT))
        self.round = Line("Round", _px(_AXIS_PT))
        self.n_members, self.n_rounds = n_members, n_rounds

    def _block_height(self, lines: list[Line]) -> int:
        return round(lines[0].ascent + self.round_step * (len(lines) - 1) + lines[-1].descent)

    def _rotated(self, lines: list[Line]) -> tuple[Image.Image, tuple[float, float]]:
        """A round label set right-aligned, turned 45° anticlockwise, and the point of the
        turned mask that was its top right corner (which sits under the column)."""
        width = math.ceil(max(line.width for line in lines)) + 2
        mask = Image.new("L", (width, self._block_height(lines)))
        draw = ImageDraw.Draw(mask)
        for i, line in enumerate(lines):
            line.draw(draw, width - 1 - line.width, line.ascent + self.round_step * i, 255)
        turned = mask.rotate(45, resample=Image.Resampling.BICUBIC, expand=True)
        cx, cy = mask.width / 2, mask.height / 2
        dx, dy = width - cx, -cy  # the top right corner, from the middle
        s = c = math.sqrt(0.5)
        return turned, (turned.width / 2 + dx * c + dy * s, turned.height / 2 - dx * s + dy * c)

    @property
    def top(self) -> int:
        """Where the body starts: under the title and the legend's row."""
        return _PAD + self.title.height + _PAD + round(_LEGEND_HEIGHT * DPI)

    @property
    def left(self) -> int:
        return _PAD + self.member.height + _LABEL_PAD + self.names_width + _TICK_PAD

    @property
    def below(self) -> int:
        """Round labels and "Round", under the cells."""
        if self.rotate:
            labels = max(mask.height - anchor[1] for mask, anchor in self.round_masks)
        else:
            labels = max(self._block_height(lines) for lines in self.rounds)
        return _TICK_PAD + round(labels) + _LABEL_PAD + self.round.height

    def right(self, cell_px: float) -> int:
        """The last round label may reach past its column."""
        last = self.rounds[-1]
        reach = 0.0 if self.rotate else max(line.width for line in last) / 2 - cell_px / 2
        return _PAD + max(0, math.ceil(reach))


def _draw_grid(
    grid: ParticipationGrid, title: str, width: float, height: float, size: tuple[int, int]
) -> Image.Image:
    n_members, n_rounds = len(grid.member_names), len(grid.round_labels)
    # What a cell gets once the fixed margins are taken out; shrinks only when clamped.
    cell_w = min(CELL_WIDTH, (width - BASE_WIDTH) / n_rounds)
    cell_h = min(CELL_HEIGHT, (height - BASE_HEIGHT) / n_members)
    cell_pt = min(cell_w, cell_h) * 72
    count_pt = min(8.0, cell_pt * 0.4)
    show_counts = count_pt >= _MIN_COUNT_PT
    deco = _Decorations(grid, title, cell_w, cell_h)
    box = _place(deco, size, width, height, cell_w, cell_h)

    pixels = np.full((size[1], size[0], 3), 255, dtype=np.uint8)
    cells = cell_pixels(grid, box.width, box.height, show_counts, count_pt, cell_pt)
    pixels[box.top : box.top + box.height, box.left : box.left + box.width] = cells
    _paint_legend(pixels, deco, size[0], show_counts)
    image = Image.fromarray(pixels)
    _draw_text(image, deco, box, show_counts)
    return image


def _place(
    deco: _Decorations, size: tuple[int, int], width: float, height: float, cw: float, ch: float
) -> _Box:
    """The cells' box: the space the decorations leave, shared out as the design asks.
    When the figure is held at its minimum size the slack goes either side of the cells
    and below them, so the cells keep their designed size instead of stretching."""
    n_rounds, n_members = deco.n_rounds, deco.n_members
    spare_w = max(0.0, width - (BASE_WIDTH + CELL_WIDTH * n_rounds))
    spare_h = max(0.0, height - (BASE_HEIGHT + CELL_HEIGHT * n_members))
    inner_w = size[0] - deco.left - deco.right(cw * DPI)
    grid_w = inner_w * cw * n_rounds / (cw * n_rounds + spare_w)
    left = deco.left + (inner_w - grid_w) / 2
    inner_h = size[1] - deco.top - _PAD - deco.below - _PAD
    grid_h = inner_h * ch * n_members / (ch * n_members + spare_h)
    return _Box(round(left), deco.top + _PAD, round(grid_w), round(grid_h))


def _paint_legend(pixels: np.ndarray, deco: _Decorations, fig_w: int, show_counts: bool) -> None:
    """The swatches (their labels are text, drawn later), centred in the legend's row."""
    for status, (x, y) in zip(_ORDER, _legend_swatches(deco, fig_w, show_counts), strict=True):
        w, h = _HANDLE
        pixels[y : y + h, x : x + w] = _pattern(status, h, w)
        edge = np.array(_rgb255("#8A8A8A"), dtype=np.uint8)
        pixels[y, x : x + w] = pixels[y + h - 1, x : x + w] = edge
        pixels[y : y + h, x] = pixels[y : y + h, x + w - 1] = edge


def _legend_layout(deco: _Decorations, fig_w: int, show_counts: bool):
    """(title line and its baseline or None, swatch row's middle, [(x, label line)])."""
    labels = [Line(STATUS_LABELS[s], _px(_LEGEND_PT)) for s in _ORDER]
    gap, spacing = _px(0.8 * _LEGEND_PT), _px(1.4 * _LEGEND_PT)
    total = sum(_HANDLE[0] + gap + line.width for line in labels) + spacing * (len(labels) - 1)
    row_h = max(_HANDLE[1], labels[0].height)
    heading = Line(COUNTS_TITLE, _px(_LEGEND_TITLE_PT)) if show_counts else None
    block = row_h + (heading.height + _PAD if heading else 0)
    top = _PAD + deco.title.height + _PAD + (round(_LEGEND_HEIGHT * DPI) - block) / 2
    middle = top + block - row_h / 2
    x = fig_w / 2 - total / 2
    entries = []
    for line in labels:
        entries.append((x, line))
        x += _HANDLE[0] + gap + line.width + spacing
    return (heading, top + heading.ascent) if heading else None, middle, entries, gap


def _legend_swatches(deco: _Decorations, fig_w: int, show_counts: bool):
    _, middle, entries, _ = _legend_layout(deco, fig_w, show_counts)
    return [(round(x), round(middle - _HANDLE[1] / 2)) for x, _ in entries]


def _draw_text(image: Image.Image, deco: _Decorations, box: _Box, show_counts: bool) -> None:
    draw = ImageDraw.Draw(image)
    fig_w = image.width
    deco.title.draw(draw, fig_w / 2 - deco.title.width / 2, _PAD + deco.title.ascent, "black")
    heading, middle, entries, gap = _legend_layout(deco, fig_w, show_counts)
    if heading:
        line, baseline = heading
        line.draw(draw, fig_w / 2 - line.width / 2, baseline, "black")
    for x, line in entries:
        line.draw(draw, x + _HANDLE[0] + gap, middle + 0.36 * line.em, "black")

    ys = box.top + _edges(deco.n_members, box.height)
    right = box.left - _TICK_PAD
    for line, top, bottom in zip(deco.names, ys[:-1], ys[1:], strict=True):
        line.draw(draw, right - line.width, (top + bottom) / 2 + 0.36 * line.em, "black")
    member = deco.member.mask().transpose(Image.Transpose.ROTATE_90)
    left = right - deco.names_width - _LABEL_PAD - member.width
    at = (left, round(box.top + box.height / 2 - member.height / 2))
    image.paste((0, 0, 0), (*at, at[0] + member.width, at[1] + member.height), member)

    xs = box.left + _edges(deco.n_rounds, box.width)
    below = box.top + box.height + _TICK_PAD
    for c, lines in enumerate(deco.rounds):
        centre = (xs[c] + xs[c + 1]) / 2
        if deco.rotate:
            mask, (ax, ay) = deco.round_masks[c]
            x, y = round(centre - ax), round(below - ay)
            image.paste((0, 0, 0), (x, y, x + mask.width, y + mask.height), mask)
            continue
        for i, line in enumerate(lines):
            line.draw(draw, centre - line.width / 2, below + line.ascent + deco.round_step * i,
                      "black")  # fmt: skip
    axis = box.top + box.height + deco.below - deco.round.height
    deco.round.draw(draw, box.left + box.width / 2 - deco.round.width / 2,
                    axis + deco.round.ascent, "black")  # fmt: skip


# ---------------------------------------------------------------------------- cells
# The cells are painted straight into a pixel array with numpy. The hatches repeat every
# inch (3 lines an inch per hatch mark, as matplotlib spaces them, and DPI a whole number
# of pixels), so each status's look is one DPI × DPI tile, computed once, and the cells
# are one lookup per pixel into those tiles: status, plain middle or not, y and x modulo
# DPI. White gutters go between cells, and each cell's number in its contrasting colour
# on a small plain patch.

_HATCH_DENSITY = 3  # lines per inch for one hatch mark, as matplotlib draws them
_HATCH_LINE_PT = 0.7


def _edges(n: int, size: int) -> np.ndarray:
    return np.round(np.linspace(0, size, n + 1)).astype(int)


@cache
def _tiles() -> np.ndarray:
    """(2 × statuses, DPI, DPI, 3) uint8: each status hatched, then each one plain."""
    y, x = np.mgrid[0:DPI, 0:DPI].astype(np.float32) + 0.5
    half_line = _px(_HATCH_LINE_PT) / 2
    tiles = np.empty((2 * len(_ORDER), DPI, DPI, 3), dtype=np.uint8)
    for i, status in enumerate(_ORDER):
        base = np.array(_rgb255(STATUS_COLOURS[status]), dtype=np.float32)
        tiles[len(_ORDER) + i] = base.astype(np.uint8)
        hatch = _HATCHES.get(status, "")
        cover = np.zeros((DPI, DPI), dtype=np.float32)
        families = []
        if "x" in hatch or "/" in hatch:
            families.append((x + y, (hatch.count("/") + hatch.count("x")) * _HATCH_DENSITY, 2**0.5))
        if "x" in hatch or "\\" in hatch:
            families.append(
                (x - y, (hatch.count("\\") + hatch.count("x")) * _HATCH_DENSITY, 2**0.5)
            )
        if "-" in hatch:
            families.append((y, hatch.count("-") * _HATCH_DENSITY, 1.0))
        for along, lines_per_inch, slant in families:
            pitch = DPI / lines_per_inch
            offset = np.mod(along, pitch)
            distance = np.minimum(offset, pitch - offset) / slant
            cover = np.maximum(cover, np.clip(half_line + 0.5 - distance, 0.0, 1.0))
        ink = np.array(_rgb255(_HATCH_COLOURS.get(status, "#000000")), dtype=np.float32)
        tiles[i] = (base + (ink - base) * cover[:, :, None] + 0.5).astype(np.uint8)
    return tiles


@cache
def _tile_palette() -> tuple[np.ndarray, np.ndarray]:
    """The tiles as one byte a pixel (flattened) and the palette those bytes index.

    The tiles hold a few dozen colours, so the cells are looked up a byte a pixel and
    turned into RGB by Pillow: ~10× quicker than gathering three bytes a pixel in numpy.
    """
    rgb = _tiles().reshape(-1, 3).astype(np.uint32)
    packed, index = np.unique(rgb[:, 0] << 16 | rgb[:, 1] << 8 | rgb[:, 2], return_inverse=True)
    if len(packed) > 256:
        raise AssertionError(f"{len(packed)} colours in the hatch tiles: too many for a palette")
    colours = np.stack([packed >> 16, packed >> 8 & 0xFF, packed & 0xFF], axis=1)
    return index.astype(np.uint8).ravel(), colours.astype(np.uint8)


def _pattern(status: Status, height: int, width: int) -> np.ndarray:
    """A ``height`` × ``width`` patch of ``status``'s look (the legend's swatches)."""
    tile = _tiles()[_ORDER.index(status)]
    # Centred on the tile's origin, where every hatch has a line, so a small swatch shows
    # its cross, stripe or diagonal through the middle.
    rows, cols = np.arange(height) - height // 2, np.arange(width) - width // 2
    return tile[rows[:, None] % DPI, cols[None, :] % DPI]


def cell_pixels(
    grid: ParticipationGrid,
    width: int,
    height: int,
    show_counts: bool,
    count_pt: float,
    cell_pt: float,
) -> np.ndarray:
    """The grid's cells as a ``height`` × ``width`` RGB array (uint8)."""
    n_members, n_rounds = len(grid.cells), len(grid.cells[0])
    xs, ys = _edges(n_rounds, width), _edges(n_members, height)
    col = np.repeat(np.arange(n_rounds), np.diff(xs))
    row = np.repeat(np.arange(n_members), np.diff(ys))
    codes = np.array(
        [[_ORDER.index(cell.status) for cell in cells] for cells in grid.cells], dtype=np.int32
    )
    # Index into the tiles, flattened: ((status [+ plain]) × DPI + y % DPI) × DPI + x % DPI.
    index = codes[row][:, col]
    if show_counts:  # the middle of each cell stays plain for its number
        inner_x = np.abs((np.arange(width) - xs[col] + 0.5) / np.diff(xs)[col] - 0.5) <= 0.3
        inner_y = np.abs((np.arange(height) - ys[row] + 0.5) / np.diff(ys)[row] - 0.5) <= 0.32
        index += len(_ORDER) * (inner_y[:, None] & inner_x[None, :])
    index *= DPI * DPI
    index += (np.arange(height, dtype=np.int32) % DPI * DPI)[:, None]
    index += (np.arange(width, dtype=np.int32) % DPI)[None, :]
    lookup, palette = _tile_palette()
    cells = Image.fromarray(np.take(lookup, index))
    cells.putpalette(palette.tobytes())  # an "L" image with a palette is a "P" one
    image = np.array(cells.convert("RGB"))
    if show_counts:
        _stamp_counts(image, grid, xs, ys, count_pt)
    _gutters(image, xs, ys, cell_pt)
    return image


def _gutters(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, cell_pt: float) -> None:
    """White lines between cells, as wide as the old gutter lines (0.5–1.5 pt)."""
    width = max(1, round(_px(max(0.5, min(1.5, cell_pt / 14)))))
    for edge in xs[1:-1]:
        image[:, max(0, edge - width // 2) : edge - width // 2 + width] = 255
    for edge in ys[1:-1]:
        image[max(0, edge - width // 2) : edge - width // 2 + width, :] = 255


@cache
def _count_ink(text: str, size_pt: float) -> np.ndarray:
    """The number's coverage (0–1) in DejaVu Sans, cropped to its ink."""
    mask = np.asarray(Line(text, _px(size_pt)).mask(), dtype=np.float32) / 255
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    return mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _stamp_counts(
    image: np.ndarray, grid: ParticipationGrid, xs: np.ndarray, ys: np.ndarray, size_pt: float
) -> None:
    """Each cell's number (:func:`count_groups`), centred in the cell: all the cells that
    show the same number in the same colour at once."""
    for (text, colour), cells in count_groups(grid).items():
        ink = _count_ink(text, round(size_pt, 2))
        h, w = ink.shape
        c, r = np.array(cells).T
        top, left = (ys[r] + ys[r + 1] - h) // 2, (xs[c] + xs[c + 1] - w) // 2
        fits = (top >= 0) & (left >= 0) & (top + h <= image.shape[0]) & (left + w <= image.shape[1])
        y = top[fits, None, None] + np.arange(h)[None, :, None]
        x = left[fits, None, None] + np.arange(w)[None, None, :]
        patch = image[y, x].astype(np.float32)
        rgb = np.array(_rgb255(colour), dtype=np.float32)
        image[y, x] = (patch + (rgb - patch) * ink[None, :, :, None] + 0.5).astype(np.uint8)


# ---------------------------------------------------------------------------- off the loop


async def render_heatmap_async(grid: ParticipationGrid) -> bytes:
    """:func:`render_heatmap` in a worker thread, whatever the grid's size.

    Its heavy steps are numpy, Pillow and zlib calls that let go of the GIL (the pixel
    lookup, the palette's conversion, the compression); the Python between them gives the
    event loop its turn at every switch interval. So the loop waits a few milliseconds
    at a time, and no process has to be started, kept warm or stopped.
    """
    _checked_shape(grid)
    return await asyncio.to_thread(render_heatmap, grid)
