"""The participation chart: a members × rounds heatmap as PNG bytes.

Platform-neutral and pure. Rendering is CPU-bound and matplotlib holds the GIL for tens
of milliseconds at a time, so the bot calls :func:`render_heatmap_async`: a big grid
renders in a separate process (one worker, started on first use, stopped by
:func:`stop_renderer` when the bot closes), a small one in a worker thread.
:func:`render_heatmap` itself uses matplotlib's object-oriented API with the Agg canvas
directly — never ``pyplot``, whose global figure manager is not thread-safe — and never
touches global ``rcParams``.

Colours come from the Okabe–Ito palette, which stays distinct under the common forms of
colour blindness: on time is bluish green, late sky blue, too short yellow, missing
vermilion. "Missing", "not yet" and "excused" also carry a hatch pattern, so every status
can be told apart in greyscale print too; the number in a hatched cell sits on a small
plain patch so the hatch never runs through it.

Names are drawn in DejaVu Sans with Noto Sans CJK (from the ``noto-cjk-sans-jp-regular``
package, no network needed) as matplotlib's fallback for Chinese, Japanese and Korean
characters; only what neither font has (emoji, mostly) is dropped.
"""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
import threading
from array import array
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, get_hinting_flag
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, fontManager, get_font
from matplotlib.patches import Patch
from PIL import Image

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


# ---------------------------------------------------------------------------- text


def _truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_BASE_FAMILY = "DejaVu Sans"  # matplotlib's own font, always there
_fonts_lock = threading.Lock()


@cache
def font_families() -> tuple[str, ...]:
    """DejaVu Sans, then Noto Sans CJK when its package is installed.

    The CJK font is registered with matplotlib's font manager once (under a lock: charts
    render in worker threads) and then named in each text's family list, which
    matplotlib treats as a per-glyph fallback chain; ``rcParams`` stay untouched.
    """
    with _fonts_lock:
        try:
            from noto_cjk_sans_jp_regular import FONT_PATH
        except ImportError:
            log.warning("Noto Sans CJK is not installed: CJK names in charts can't be drawn")
            return (_BASE_FAMILY,)
        path = str(FONT_PATH)
        fontManager.addfont(path)
        return (_BASE_FAMILY, FontProperties(fname=path).get_name())


def _fonts(size: float | None = None) -> FontProperties:
    return FontProperties(family=list(font_families()), size=size)


@cache
def _family_has(family: str, char: str) -> bool:
    font = get_font(findfont(FontProperties(family=family), fallback_to_default=False))
    return font.get_char_index(ord(char)) != 0


def _font_has(char: str) -> bool:
    return any(_family_has(family, char) for family in font_families())


def _title_font(title: str) -> dict:
    """Bold when DejaVu Sans can draw the whole title; the CJK font has no bold, and
    asking for one would only log a complaint, so a CJK title is set regular."""
    if all(c.isspace() or _family_has(_BASE_FAMILY, c) for c in title):
        return {"fontfamily": _BASE_FAMILY, "weight": "bold"}
    return {"fontfamily": list(font_families()), "weight": "normal"}


def _drawable(text: str) -> str:
    """Drop characters the font cannot draw (emoji, mostly) rather than show tofu boxes."""
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


def _relative_luminance(colour: str) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_colour(background: str) -> str:
    """Black or white, whichever has the higher WCAG contrast against ``background``."""
    lum = _relative_luminance(background)
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


# ---------------------------------------------------------------------------- render


def render_heatmap(grid: ParticipationGrid) -> bytes:
    """PNG bytes. Pure and CPU-bound: callers run it in a thread (asyncio.to_thread)."""
    n_members, n_rounds = _checked_shape(grid)
    width, height = figure_size(n_members, n_rounds)
    fig = Figure(figsize=(width, height), dpi=DPI, facecolor="white", layout="constrained")
    FigureCanvasAgg(fig)
    title_pt = _EMPTY_TITLE_PT if n_members == 0 or n_rounds == 0 else _TITLE_PT
    title = _label(grid.title, "Participation", int(width * 72 / (title_pt * 0.7)))
    paint = None
    if n_members == 0 or n_rounds == 0:
        _draw_empty(fig, title)
    else:
        paint = _draw_grid(fig, grid, title, width, height)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()
    if paint is not None:
        paint(pixels)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="png", compress_level=_PNG_COMPRESSION)
    return buf.getvalue()


#: zlib level for the PNG: 6 (the default) spends ~3× the time for a file ~10 % smaller.
_PNG_COMPRESSION = 3


def _checked_shape(grid: ParticipationGrid) -> tuple[int, int]:
    n_members, n_rounds = len(grid.member_names), len(grid.round_labels)
    if len(grid.cells) != n_members or any(len(row) != n_rounds for row in grid.cells):
        raise ValueError(
            f"grid cells must be {n_members} rows × {n_rounds} rounds, got "
            f"{[len(row) for row in grid.cells]}"
        )
    return n_members, n_rounds


def _draw_empty(fig: Figure, title: str) -> None:
    fig.set_layout_engine(None)
    fig.text(
        0.5,
        0.68,
        title,
        ha="center",
        va="center",
        fontsize=_EMPTY_TITLE_PT,
        **_title_font(title),
        parse_math=False,
    )
    fig.text(0.5, 0.36, "No rounds yet", ha="center", va="center", fontsize=11, color="#555555")


def _draw_grid(
    fig: Figure, grid: ParticipationGrid, title: str, width: float, height: float
) -> Callable[[np.ndarray], None]:
    n_members, n_rounds = len(grid.member_names), len(grid.round_labels)
    # What a cell gets once the fixed margins are taken out; shrinks only when clamped.
    cell_w = min(CELL_WIDTH, (width - BASE_WIDTH) / n_rounds)
    cell_h = min(CELL_HEIGHT, (height - BASE_HEIGHT) / n_members)
    cell_pt = min(cell_w, cell_h) * 72
    label_pt = max(5.0, min(9.0, cell_h * 72 * 0.45))
    round_pt = max(5.0, min(9.0, cell_w * 72 * 0.4))
    count_pt = min(8.0, cell_pt * 0.4)

    # An outer row for the legend above a body of 2 × 3 cells: the grid in the middle of
    # the top row, spare space either side and below. When the figure is held at its
    # minimum size the slack goes to the spare cells, so the grid keeps its designed cell
    # size instead of stretching. Ratios are inches of area inside the labels' margins
    # (which constrained layout adds around the grid).
    spare_w = max(0.0, width - (BASE_WIDTH + CELL_WIDTH * n_rounds))
    spare_h = max(0.0, height - (BASE_HEIGHT + CELL_HEIGHT * n_members))
    outer = fig.add_gridspec(2, 1, height_ratios=(_LEGEND_HEIGHT, height - BASE_HEIGHT + 0.5))
    # The legend gets its own outer row: an axes spanning the grid's columns would make
    # constrained layout copy the names' margin into the spare columns.
    body = outer[1].subgridspec(
        2,
        3,
        width_ratios=(spare_w / 2 + 1e-3, cell_w * n_rounds, spare_w / 2 + 1e-3),
        height_ratios=(cell_h * n_members, spare_h + 1e-3),
    )
    header = fig.add_subplot(outer[0])
    header.axis("off")
    ax = fig.add_subplot(body[0, 1])
    ax.set_xlim(-0.5, n_rounds - 0.5)
    ax.set_ylim(n_members - 0.5, -0.5)
    ax.patch.set_visible(False)  # the cells are a picture behind the axes (_place_cells)
    show_counts = count_pt >= _MIN_COUNT_PT
    ax.tick_params(which="major", length=0, pad=_TICK_PAD_PT)
    for spine in ax.spines.values():
        spine.set_visible(False)

    families = list(font_families())
    rounds = round_labels(grid)
    longest = max(len(line) for label in rounds for line in label.split("\n"))
    rotate = longest * round_pt * 0.55 > cell_w * 72 * 0.95
    ax.set_xticks(
        range(n_rounds),
        rounds,
        fontsize=round_pt,
        fontfamily=families,
        parse_math=False,
        rotation=45 if rotate else 0,
        ha="right" if rotate else "center",
        rotation_mode="anchor",
        linespacing=1.1,
    )
    names = NameColumn(member_labels(grid), label_pt)
    ax.set_yticks([])
    ax.set_xlabel("Round", fontsize=10)
    ax.set_ylabel("Member", fontsize=10, labelpad=names.width_pt + _TICK_PAD_PT + 4)

    handles = [
        Patch(
            facecolor=STATUS_COLOURS[s],
            edgecolor="#777777",
            linewidth=0.5,
            hatch=_HATCHES.get(s),
            hatchcolor=_HATCH_COLOURS.get(s, "black"),
            label=label,
        )
        for s, label in STATUS_LABELS.items()
    ]
    fig.suptitle(title, fontsize=_TITLE_PT, parse_math=False, **_title_font(title))
    legend = header.legend(
        handles=handles,
        loc="center",
        ncol=len(handles),
        frameon=False,
        prop=_fonts(9),
        handlelength=2.0,
        handleheight=1.4,
        columnspacing=1.4,
        borderaxespad=0,
        borderpad=0,
        title=COUNTS_TITLE if show_counts else None,
        title_fontsize=8.5,
    )
    legend.set_in_layout(False)  # its row is sized for it; don't let it widen the columns
    return _place_cells(fig, ax, grid, names, show_counts, count_pt, cell_pt)


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


# ---------------------------------------------------------------------------- names
_TICK_PAD_PT = 3


class NameColumn:
    """Member names rasterised once with FreeType, DejaVu Sans falling back to Noto Sans
    CJK glyph by glyph as matplotlib's text does, and painted right-aligned beside their
    rows. 500 names as tick labels cost ~1.5 s of matplotlib text layout and drawing
    (twice: constrained layout measures them first); this is ~30 ms."""

    def __init__(self, labels: list[str], size_pt: float) -> None:
        paths = [findfont(FontProperties(family=family)) for family in font_families()]
        font = get_font(paths)
        font.set_size(size_pt, DPI)
        self.em = size_pt * DPI / 72
        self.inks: list[tuple[np.ndarray, int]] = []  # (coverage 0–1, baseline row)
        for label in labels:
            font.set_text(label, 0.0, flags=get_hinting_flag())
            font.draw_glyphs_to_bitmap(antialiased=True)
            ink = np.asarray(font.get_image(), dtype=np.float32) / 255
            width = int(np.ceil(font.get_width_height()[0] / 64))
            self.inks.append((ink[:, : max(1, width) + 1], ink.shape[0] - font.get_descent() // 64))
        self.width_pt = max((ink.shape[1] for ink, _ in self.inks), default=0) * 72 / DPI

    def paint(self, pixels: np.ndarray, right: int, row_edges: np.ndarray) -> None:
        """Each name ending at column ``right``, its capitals centred on its row."""
        for (ink, baseline), top, bottom in zip(
            self.inks, row_edges[:-1], row_edges[1:], strict=True
        ):
            h, w = ink.shape
            y = round((top + bottom) / 2 + 0.36 * self.em) - baseline
            x = right - w
            y0, x0 = max(0, y), max(0, x)
            y1, x1 = min(pixels.shape[0], y + h), min(pixels.shape[1], x + w)
            if y1 <= y0 or x1 <= x0:
                continue
            alpha = ink[y0 - y : y1 - y, x0 - x : x1 - x, None]
            patch = pixels[y0:y1, x0:x1].astype(np.float32)
            pixels[y0:y1, x0:x1] = (patch * (1 - alpha) + 0.5).astype(np.uint8)


# ---------------------------------------------------------------------------- cells
# The cells are painted straight into a pixel array (numpy) and placed on the figure at
# whole pixels, rather than drawn as matplotlib artists: a 500 × 52 grid took ~3.5 s as
# an image, hatch collections, gutters and counts, and most of that was hatching and
# building thousands of patches. The look is the same: matplotlib's hatch spacing (3
# lines an inch per hatch mark) and line width, white gutters, each cell's number in
# its contrasting colour on a small plain patch.

_HATCH_DENSITY = 3  # lines per inch for one hatch mark, as matplotlib draws them here
_HATCH_LINE_PT = 0.7


def _place_cells(
    fig: Figure,
    ax: Axes,
    grid: ParticipationGrid,
    names: NameColumn,
    show_counts: bool,
    count_pt: float,
    cell_pt: float,
) -> Callable[[np.ndarray], None]:
    """Lay the figure out once and pin the axes to whole pixels; returns what paints the
    cells into the drawn figure's pixels, exactly inside the axes. The layout engine is
    then switched off so drawing doesn't lay the figure out again."""
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
    fig.set_layout_engine("none")
    fig_w, fig_h = round(fig.bbox.width), round(fig.bbox.height)
    box = ax.get_window_extent()
    x0, x1, y0, y1 = (round(v) for v in (box.x0, box.x1, box.y0, box.y1))
    ax.set_position([x0 / fig_w, y0 / fig_h, (x1 - x0) / fig_w, (y1 - y0) / fig_h])

    def paint(pixels: np.ndarray) -> None:
        cells = cell_pixels(grid, x1 - x0, y1 - y0, show_counts, count_pt, cell_pt)
        pixels[fig_h - y1 : fig_h - y0, x0:x1] = cells
        right = x0 - round(_TICK_PAD_PT * DPI / 72)
        names.paint(pixels, right, fig_h - y1 + _edges(len(grid.cells), y1 - y0))

    return paint


def _edges(n: int, size: int) -> np.ndarray:
    return np.round(np.linspace(0, size, n + 1)).astype(int)


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
        [[_ORDER.index(cell.status) for cell in cells] for cells in grid.cells], dtype=np.uint8
    )
    palette = np.array([_rgb255(STATUS_COLOURS[s]) for s in _ORDER], dtype=np.uint8)
    status = codes[row[:, None], col[None, :]]
    image = palette[status]
    for status_name, hatch in _HATCHES.items():
        _hatch(image, status == _ORDER.index(status_name), hatch, _HATCH_COLOURS[status_name],
               xs, ys, col, row, show_counts)  # fmt: skip
    if show_counts:
        _stamp_counts(image, grid, xs, ys, count_pt)
    _gutters(image, xs, ys, cell_pt)
    return image


def _rgb255(colour: str) -> tuple[int, int, int]:
    r, g, b = to_rgb(colour)
    return round(r * 255), round(g * 255), round(b * 255)


def _hatch(
    image: np.ndarray,
    where: np.ndarray,
    hatch: str,
    colour: str,
    xs: np.ndarray,
    ys: np.ndarray,
    col: np.ndarray,
    row: np.ndarray,
    keep_centre_plain: bool,
) -> None:
    """Anti-aliased hatch lines over the pixels ``where`` is true, spaced as matplotlib
    spaces them; with counts shown, the middle of each cell stays plain for its number."""
    py, px = np.nonzero(where)
    if not len(py):
        return
    if keep_centre_plain:
        c, r = col[px], row[py]
        fx = (px - xs[c] + 0.5) / (xs[c + 1] - xs[c]) - 0.5
        fy = (py - ys[r] + 0.5) / (ys[r + 1] - ys[r]) - 0.5
        outside = (np.abs(fx) > 0.3) | (np.abs(fy) > 0.32)
        py, px = py[outside], px[outside]
    x, y = px.astype(np.float32) + 0.5, py.astype(np.float32) + 0.5
    half_line = _HATCH_LINE_PT * DPI / 72 / 2
    cover = np.zeros(len(px), dtype=np.float32)
    families = []
    if "x" in hatch or "/" in hatch:
        families.append((x + y, (hatch.count("/") + hatch.count("x")) * _HATCH_DENSITY, 2**0.5))
    if "x" in hatch or "\\" in hatch:
        families.append((x - y, (hatch.count("\\") + hatch.count("x")) * _HATCH_DENSITY, 2**0.5))
    if "-" in hatch:
        families.append((y, hatch.count("-") * _HATCH_DENSITY, 1.0))
    for along, lines_per_inch, slant in families:
        pitch = DPI / lines_per_inch
        offset = np.mod(along, pitch)
        distance = np.minimum(offset, pitch - offset) / slant
        cover = np.maximum(cover, np.clip(half_line + 0.5 - distance, 0.0, 1.0))
    base = image[py, px].astype(np.float32)
    ink = np.array(_rgb255(colour), dtype=np.float32)
    image[py, px] = (base + (ink - base) * cover[:, None] + 0.5).astype(np.uint8)


def _gutters(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, cell_pt: float) -> None:
    """White lines between cells, as wide as the old gutter lines (0.5–1.5 pt)."""
    width = max(1, round(max(0.5, min(1.5, cell_pt / 14)) * DPI / 72))
    for edge in xs[1:-1]:
        image[:, max(0, edge - width // 2) : edge - width // 2 + width] = 255
    for edge in ys[1:-1]:
        image[max(0, edge - width // 2) : edge - width // 2 + width, :] = 255


@cache
def _count_ink(text: str, size_pt: float) -> np.ndarray:
    """The number's coverage (0–1) as drawn by the chart's sans-serif font, cropped to ink."""
    font = get_font(findfont(FontProperties(family=["sans-serif"])))
    font.set_size(size_pt, DPI)
    font.set_text(text, 0.0)
    font.draw_glyphs_to_bitmap(antialiased=True)
    ink = np.asarray(font.get_image(), dtype=np.float32) / 255
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _stamp_counts(
    image: np.ndarray, grid: ParticipationGrid, xs: np.ndarray, ys: np.ndarray, size_pt: float
) -> None:
    """Each cell's number (:func:`count_groups`), centred in the cell."""
    for (text, colour), cells in count_groups(grid).items():
        ink = _count_ink(text, round(size_pt, 2))
        h, w = ink.shape
        rgb = np.array(_rgb255(colour), dtype=np.float32)
        for c, r in cells:
            top = (ys[r] + ys[r + 1] - h) // 2
            left = (xs[c] + xs[c + 1] - w) // 2
            if top < 0 or left < 0:
                continue
            patch = image[top : top + h, left : left + w].astype(np.float32)
            alpha = ink[: patch.shape[0], : patch.shape[1], None]
            image[top : top + h, left : left + w] = (patch + (rgb - patch) * alpha + 0.5).astype(
                np.uint8
            )


# ---------------------------------------------------------------------------- off the loop
#: Grids up to this many cells render in a thread: the GIL is held for a few ms at a time
#: and a process would cost more to reach than the render. Bigger ones go to the process.
THREAD_CELLS = 600
_renderer: ProcessPoolExecutor | None = None
_renderer_lock = threading.Lock()


async def render_heatmap_async(grid: ParticipationGrid) -> bytes:
    """:func:`render_heatmap` without holding the event loop: in the renderer process
    for a big grid (matplotlib in a thread stalls the loop 80–150 ms at 500 × 52), in a
    thread for a small one."""
    n_members, n_rounds = _checked_shape(grid)
    if n_members * n_rounds <= THREAD_CELLS:
        return await asyncio.to_thread(render_heatmap, grid)
    packed = await asyncio.to_thread(_pack, grid)
    # Starting the worker (on first use) and handing it the grid happen in a thread too.
    future = await asyncio.to_thread(_submit, packed)
    try:
        return await asyncio.wrap_future(future)
    except BrokenProcessPool:
        _forget_renderer()  # the worker died (e.g. killed for memory); the next call starts one
        raise


def stop_renderer() -> None:
    """Stop the renderer process, if one was started; the bot calls this when it closes."""
    pool = _forget_renderer()
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def _submit(packed: tuple) -> Future[bytes]:
    global _renderer
    with _renderer_lock:
        if _renderer is None:
            _renderer = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return _renderer.submit(_render_packed, packed)


def _forget_renderer() -> ProcessPoolExecutor | None:
    global _renderer
    with _renderer_lock:
        pool, _renderer = _renderer, None
    return pool


def _pack(grid: ParticipationGrid) -> tuple:
    """The grid as a few strings and byte strings: quick to pickle, unlike 26,000 cells."""
    statuses = bytes(_ORDER.index(cell.status) for row in grid.cells for cell in row)
    given = array("I", (cell.feedback_given for row in grid.cells for cell in row)).tobytes()
    return grid.title, grid.round_labels, grid.member_names, statuses, given


def _render_packed(packed: tuple) -> bytes:
    title, round_labels, member_names, statuses, given_bytes = packed
    given = array("I")
    given.frombytes(given_bytes)
    n = len(round_labels)
    cells = tuple(
        tuple(Cell(_ORDER[statuses[i]], given[i]) for i in range(row * n, row * n + n))
        for row in range(len(member_names))
    )
    return render_heatmap(ParticipationGrid(title, round_labels, member_names, tuple(cells)))
