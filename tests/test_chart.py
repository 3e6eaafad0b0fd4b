"""The participation heatmap: a PNG of the right size, fast, deterministic, off the loop."""

from __future__ import annotations

import colorsys
import io
import warnings
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations
from typing import get_args

import numpy as np
import pytest
from PIL import Image, ImageColor

from bench.looplag import LoopLag
from bot.core.chart import (
    _HATCHES,
    BASE_HEIGHT,
    BASE_WIDTH,
    CELL_HEIGHT,
    CELL_WIDTH,
    DPI,
    EMPTY_SIZE,
    MAX_HEIGHT,
    MAX_WIDTH,
    MIN_HEIGHT,
    MIN_WIDTH,
    STATUS_COLOURS,
    STATUS_LABELS,
    Cell,
    ParticipationGrid,
    Status,
    count_groups,
    figure_size,
    member_labels,
    render_heatmap,
    render_heatmap_async,
    text_colour,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STATUSES: tuple[Status, ...] = (
    "on_time", "on_time", "late", "short", "missing", "not_yet", "excused",
)  # fmt: skip


def make_grid(n_members: int, n_rounds: int, title: str = "Autumn 2026 · participation"):
    return ParticipationGrid(
        title=title,
        round_labels=tuple(f"R{r + 1}" for r in range(n_rounds)),
        member_names=tuple(f"Member number {m + 1}" for m in range(n_members)),
        cells=tuple(
            tuple(
                Cell(STATUSES[(m * 7 + r * 3) % len(STATUSES)], (m + r) % 4)
                for r in range(n_rounds)
            )
            for m in range(n_members)
        ),
    )


def expected_shape(n_members: int, n_rounds: int) -> tuple[int, int]:
    """(height, width) in pixels, straight from the documented formula and its constants."""
    if n_members == 0 or n_rounds == 0:
        width, height = EMPTY_SIZE
    else:
        width = min(max(BASE_WIDTH + CELL_WIDTH * n_rounds, MIN_WIDTH), MAX_WIDTH)
        height = min(max(BASE_HEIGHT + CELL_HEIGHT * n_members, MIN_HEIGHT), MAX_HEIGHT)
    quarter = lambda inches: round(inches * 4) / 4  # noqa: E731 - sizes snap to 1/4 inch
    assert figure_size(n_members, n_rounds) == (quarter(width), quarter(height))
    return round(quarter(height) * DPI), round(quarter(width) * DPI)


def decoded_shape(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        image.load()  # decodes every row: a broken stream fails here
        width, height = image.size
    return height, width


def test_a_small_grid_is_a_png_of_the_formula_size():
    png = render_heatmap(make_grid(6, 3))
    assert decoded_shape(png) == expected_shape(6, 3)


@pytest.mark.parametrize(("members", "rounds"), [(1, 1), (12, 8), (3, 80), (140, 2)])
def test_every_shape_matches_the_formula_including_clamped_ones(members, rounds):
    assert decoded_shape(render_heatmap(make_grid(members, rounds))) == expected_shape(
        members, rounds
    )


@pytest.mark.parametrize(("members", "rounds"), [(0, 0), (5, 0), (0, 4)])
def test_an_empty_grid_still_renders(members, rounds):
    grid = ParticipationGrid(
        title="New cohort · participation",
        round_labels=tuple(f"R{r + 1}" for r in range(rounds)),
        member_names=tuple(f"M{m}" for m in range(members)),
        cells=tuple(() for _ in range(members)),
    )
    assert decoded_shape(render_heatmap(grid)) == expected_shape(members, rounds)


def test_the_same_grid_renders_to_identical_bytes():
    grid = make_grid(12, 8)
    assert render_heatmap(grid) == render_heatmap(grid)


def test_concurrent_renders_in_threads_match_sequential_ones():
    grids = [make_grid(12, 8), make_grid(7, 15), make_grid(20, 5), make_grid(12, 8)]
    sequential = [render_heatmap(grid) for grid in grids]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(render_heatmap, grids)) == sequential


@pytest.mark.parametrize(("members", "rounds"), [(300, 52), (12, 8)])
async def test_rendering_leaves_the_event_loop_free(members, rounds):
    """What the two wall-clock tests meant (a big chart renders, and rendering never
    holds the loop), measured by the loop-lag probe with a bound generous enough for a
    loaded machine; the chart renders in a thread, which stalls the loop a few ms on a
    quiet machine (matplotlib in a thread stalled it 80–150 ms at 500 × 52)."""
    grid = make_grid(members, rounds)
    async with LoopLag() as lag:
        png = await render_heatmap_async(grid)
    assert lag.max < 0.15, f"rendering {members} × {rounds} held the event loop: {lag}"
    assert png == render_heatmap(grid), "the same picture, wherever it is drawn"
    assert decoded_shape(png) == expected_shape(members, rounds)


def test_awkward_names_and_titles_render():
    names = (
        "$\\frac{unclosed",  # would be a mathtext error if parsed
        "a_b^c $x$ 50$",
        "🌿🌿",  # nothing drawable: falls back to "Member 3"
        "Sam 🌿 Rivers",
        "A name far, far longer than twenty-four characters",
        "   ",
    )
    grid = ParticipationGrid(
        title="$Cohort$ with a very long title " * 5,
        round_labels=("1 January 2026, week one", "$R2$"),
        member_names=names,
        cells=tuple((Cell("on_time", 12), Cell("missing", 1)) for _ in names),
    )
    assert decoded_shape(render_heatmap(grid)) == expected_shape(len(names), 2)


def test_a_ragged_grid_is_a_programming_error():
    grid = ParticipationGrid(
        title="t",
        round_labels=("R1", "R2"),
        member_names=("A", "B"),
        cells=((Cell("late", 0), Cell("late", 0)), (Cell("late", 0),)),
    )
    with pytest.raises(ValueError, match="rows"):
        render_heatmap(grid)


def test_every_status_has_a_legend_label():
    assert set(STATUS_LABELS) == set(get_args(Status))
    assert STATUS_LABELS == {
        "on_time": "On time",
        "late": "Late",
        "short": "Too short",
        "missing": "Missing",
        "not_yet": "Not yet",
        "excused": "Excused",
    }


def test_count_text_contrasts_with_its_cell():
    assert text_colour("#000000") == "white"
    assert text_colour("#F0E442") == "black"  # yellow
    assert text_colour("#FFFFFF") == "black"


CJK_NAMES = ("李小龍", "さくら", "김민준", "陳 美玲")


def render_collecting_warnings(grid: ParticipationGrid) -> tuple[bytes, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_heatmap(grid)
    return png, [str(w.message) for w in caught]


def one_column(names: tuple[str, ...], title: str = "Autumn · participation"):
    return ParticipationGrid(
        title=title,
        round_labels=("R1\n5 Jan",),
        member_names=names,
        cells=tuple((Cell("on_time", 1),) for _ in names),
    )


def test_cjk_names_are_drawn_not_replaced():
    grid = one_column((*CJK_NAMES, "🌿🌿", "Sam 🌿 Rivers"), title="秋 cohort · participation")
    assert member_labels(grid) == [*CJK_NAMES, "Member 5", "Sam Rivers"], "only emoji dropped"
    png, caught = render_collecting_warnings(grid)
    assert not [m for m in caught if "missing from font" in m], caught
    placeholders = one_column((*(f"Member {i + 1}" for i in range(4)), "🌿", "Sam Rivers"))
    assert png != render_heatmap(placeholders), "the names are drawn, not 'Member N'"


def test_every_cell_shows_its_number_whatever_its_status():
    grid = make_grid(9, 7)
    shown = {(c, r): text for (text, _), cells in count_groups(grid).items() for c, r in cells}
    assert shown == {
        (c, r): str(cell.feedback_given)
        for r, row in enumerate(grid.cells)
        for c, cell in enumerate(row)
    }
    zeros = {grid.cells[r][c].status for (c, r), text in shown.items() if text == "0"}
    assert {"missing", "excused", "not_yet", "on_time"} <= zeros


def to_rgb(colour: str) -> tuple[float, float, float]:
    r, g, b = ImageColor.getrgb(colour)[:3]
    return r / 255, g / 255, b / 255


def _hue_and_luma(colour: str) -> tuple[float, float]:
    r, g, b = to_rgb(colour)
    hue = colorsys.rgb_to_hsv(r, g, b)[0] * 360
    return hue, 255 * (0.299 * r + 0.587 * g + 0.114 * b)


def test_statuses_differ_in_hue_or_lightness_or_pattern():
    """No two statuses share a look: chromatic colours at least 20° of hue apart (late and
    missing were both orange, 15° apart), and
    every pair differs in greyscale lightness or in hatch pattern (for print)."""
    chromatic = {s: c for s, c in STATUS_COLOURS.items() if len(set(to_rgb(c))) > 1}
    assert {"on_time", "late", "short", "missing"} <= set(chromatic)
    for a, b in combinations(chromatic, 2):
        (hue_a, _), (hue_b, _) = _hue_and_luma(chromatic[a]), _hue_and_luma(chromatic[b])
        gap = abs(hue_a - hue_b) % 360
        assert min(gap, 360 - gap) >= 20, f"{a} and {b} are both {hue_a:.0f}°-ish"
    for a, b in combinations(STATUS_COLOURS, 2):
        luma_gap = abs(_hue_and_luma(STATUS_COLOURS[a])[1] - _hue_and_luma(STATUS_COLOURS[b])[1])
        assert luma_gap >= 25 or _HATCHES.get(a) != _HATCHES.get(b), (a, b)


@pytest.mark.parametrize("font", ["regular", "bold", "cjk"])
def test_the_character_map_reader_agrees_with_fonttools(font):
    """The chart picks a font per character from its own reading of each font's ``cmap``;
    fontTools (a test dependency) reads the same tables."""
    ttlib = pytest.importorskip("fontTools.ttLib")
    from bot.core import chart

    path = {"regular": chart.REGULAR_FONT, "bold": chart.BOLD_FONT, "cjk": chart.cjk_font()}[font]
    if path is None:
        pytest.skip("Noto Sans CJK is not installed")
    with ttlib.TTFont(path, lazy=True) as opened:
        expected = {code for code, glyph in opened.getBestCmap().items() if glyph != ".notdef"}
    assert chart.coverage(path) == expected
    assert len(expected) > 3000


def test_each_status_looks_as_designed_in_the_cells():
    """Sampled pixels: a plain status is its colour throughout; a hatched one is mostly its
    colour with some of its hatch colour; the middle of a hatched cell is plain."""
    from bot.core.chart import _HATCH_COLOURS, cell_pixels

    for status in get_args(Status):
        grid = ParticipationGrid("t", ("R1",), ("A",), ((Cell(status, 0),),))
        cells = cell_pixels(grid, 200, 200, show_counts=False, count_pt=8, cell_pt=20)
        colours = {tuple(int(v) for v in px) for px in cells.reshape(-1, 3)}
        base = ImageColor.getrgb(STATUS_COLOURS[status])
        assert base in colours
        if status in _HATCHES:
            hatch = np.array(ImageColor.getrgb(_HATCH_COLOURS[status]))
            nearest = min(np.abs(np.array(c) - hatch).max() for c in colours)
            assert nearest < np.abs(np.array(base) - hatch).max() / 2, f"{status}: no hatch"
            plain = cell_pixels(grid, 200, 200, show_counts=True, count_pt=8, cell_pt=20)
            middle = plain[80:120, 80:120].reshape(-1, 3)
            ink = np.abs(middle.astype(int) - base).sum(axis=1) > 0
            assert ink.mean() < 0.2, "only the number sits on the plain middle"
        else:
            assert colours == {base}, status
