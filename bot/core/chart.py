"""The participation chart: a members × rounds heatmap as PNG bytes.

Platform-neutral and pure. Rendering is CPU-bound, so callers run :func:`render_heatmap`
in a worker thread (``asyncio.to_thread``). It therefore uses matplotlib's
object-oriented API with the Agg canvas directly — never ``pyplot``, whose global figure
manager is not thread-safe — and never touches global ``rcParams``.

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

import io
import logging
import threading
from dataclasses import dataclass
from functools import cache
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection, PathCollection
from matplotlib.colors import ListedColormap, to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, fontManager, get_font
from matplotlib.patches import Patch, Rectangle
from matplotlib.path import Path
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D

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
    n_members, n_rounds = len(grid.member_names), len(grid.round_labels)
    if len(grid.cells) != n_members or any(len(row) != n_rounds for row in grid.cells):
        raise ValueError(
            f"grid cells must be {n_members} rows × {n_rounds} rounds, got "
            f"{[len(row) for row in grid.cells]}"
        )
    width, height = figure_size(n_members, n_rounds)
    fig = Figure(figsize=(width, height), dpi=DPI, facecolor="white", layout="constrained")
    FigureCanvasAgg(fig)
    title_pt = _EMPTY_TITLE_PT if n_members == 0 or n_rounds == 0 else _TITLE_PT
    title = _label(grid.title, "Participation", int(width * 72 / (title_pt * 0.7)))
    if n_members == 0 or n_rounds == 0:
        _draw_empty(fig, title)
    else:
        _draw_grid(fig, grid, title, width, height)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


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
) -> None:
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
    codes = [[_ORDER.index(cell.status) for cell in row] for row in grid.cells]
    cmap = ListedColormap([STATUS_COLOURS[s] for s in _ORDER])
    ax.imshow(
        codes, cmap=cmap, vmin=-0.5, vmax=len(_ORDER) - 0.5, aspect="auto", interpolation="nearest"
    )

    for status, hatch in _HATCHES.items():
        cells = [
            Rectangle((c - 0.5, r - 0.5), 1, 1)
            for r, row in enumerate(grid.cells)
            for c, cell in enumerate(row)
            if cell.status == status
        ]
        if cells:
            ax.add_collection(
                PatchCollection(
                    cells,
                    facecolor="none",
                    edgecolor="none",
                    hatch=hatch,
                    hatchcolor=_HATCH_COLOURS[status],
                    hatch_linewidth=0.7,
                )
            )

    show_counts = count_pt >= _MIN_COUNT_PT
    if show_counts:
        _clear_under_counts(fig, ax, grid, cell_w, cell_h)
        _draw_counts(fig, ax, grid, count_pt)

    # White gutters between cells (one line collection each way; cheaper than minor ticks).
    gutter = max(0.5, min(1.5, cell_pt / 14))
    ax.vlines(
        [x + 0.5 for x in range(n_rounds - 1)],
        -0.5,
        n_members - 0.5,
        colors="white",
        linewidth=gutter,
        in_layout=False,
    )
    ax.hlines(
        [y + 0.5 for y in range(n_members - 1)],
        -0.5,
        n_rounds - 0.5,
        colors="white",
        linewidth=gutter,
        in_layout=False,
    )
    ax.tick_params(which="major", length=0, pad=3)
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
    ax.set_yticks(
        range(n_members), member_labels(grid), fontsize=label_pt, fontfamily=families,
        parse_math=False,
    )  # fmt: skip
    ax.set_xlabel("Round", fontsize=10)
    ax.set_ylabel("Member", fontsize=10)

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


def _clear_under_counts(
    fig: Figure, ax: Axes, grid: ParticipationGrid, cell_w: float, cell_h: float
) -> None:
    """A plain patch of the cell's own colour in the middle of each hatched cell, so the
    number drawn on it isn't crossed by hatch lines.

    One path collection (a box in points, repeated at each cell) rather than a patch
    per cell, for the same reason as :func:`_draw_counts`.
    """
    hatched = [
        ((c, r), STATUS_COLOURS[cell.status])
        for r, row in enumerate(grid.cells)
        for c, cell in enumerate(row)
        if cell.status in _HATCHES
    ]
    if not hatched:
        return
    box = Path.unit_rectangle().transformed(
        Affine2D().translate(-0.5, -0.5).scale(cell_w * 72 * 0.6, cell_h * 72 * 0.64)
    )
    boxes = PathCollection(
        [box],
        offsets=[at for at, _ in hatched],
        offset_transform=ax.transData,
        facecolors=[colour for _, colour in hatched],
        edgecolors="none",
        linewidths=0,
    )
    boxes.set_transform(Affine2D().scale(1 / 72) + fig.dpi_scale_trans)
    boxes.set_in_layout(False)
    ax.add_collection(boxes, autolim=False)


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


def _draw_counts(fig: Figure, ax: Axes, grid: ParticipationGrid, size_pt: float) -> None:
    """Each cell's number (:func:`count_groups`), centred in the cell.

    Drawn as one path collection per distinct (number, colour) rather than a Text artist
    per cell: a 40 × 30 grid would otherwise spend most of its render time laying out
    1,200 tiny texts, twice (constrained layout draws once to measure).
    """
    groups = count_groups(grid)
    prop = FontProperties(family=["sans-serif"], size=size_pt)
    points_to_pixels = Affine2D().scale(1 / 72) + fig.dpi_scale_trans
    for (text, colour), offsets in sorted(groups.items()):
        path = TextPath((0, 0), text, prop=prop)  # in points
        ink = path.get_extents()
        centred = path.transformed(
            Affine2D().translate(-ink.x0 - ink.width / 2, -ink.y0 - ink.height / 2)
        )
        counts = PathCollection(
            [centred],
            offsets=offsets,
            offset_transform=ax.transData,
            facecolors=colour,
            edgecolors="none",
            linewidths=0,
        )
        counts.set_transform(points_to_pixels)
        counts.set_in_layout(False)
        ax.add_collection(counts, autolim=False)
