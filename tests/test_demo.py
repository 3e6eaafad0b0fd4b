"""``praxis demo``: a simulated term whose transcript agrees with the bot's own reports."""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot import demo
from bot.cli import main
from bot.core.privacy import find_identifiers

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def play(tmp_path: Path, name: str, seed: int = 3) -> tuple[str, bytes, bytes, bytes]:
    """Run a small term; the transcript with its folder replaced, so runs compare."""
    out = tmp_path / name
    result = await demo.run_demo(demo.DemoOptions(members=5, weeks=3, seed=seed, out=out))
    text = "\n".join(result.lines).replace(str(out), "OUT")
    files = result.csv_path, result.png_path, result.portfolio_path
    return text, *(path.read_bytes() for path in files)


def weeks(text: str) -> dict[int, str]:
    """Each week's block of the transcript, wrapped lines joined back up."""
    flat = re.sub(r"\n {4,}", " ", text)
    blocks = re.split(r"\n\n", flat)
    return {int(b.split()[1]): b for b in blocks if b.startswith("Week ")}


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def test_the_transcript_agrees_with_the_csv_and_chart(tmp_path: Path):
    text, data, png, _page = await play(tmp_path, "a")

    rows = csv_rows(data)
    per_round = Counter((int(r["round"]), r["kind"]) for r in rows)
    blocks = weeks(text)
    assert sorted(blocks) == [1, 2, 3]
    for number, block in blocks.items():
        reflected = int(re.search(r"reflections \((\d+)\)", block)[1])
        given = int(re.search(r"\bfeedback \((\d+)\)", block)[1])
        assert per_round[(number, "reflection")] == reflected, block
        assert per_round[(number, "feedback")] == given, block
        assert f"digest to {demo.FACILITATOR}:" in block, "each round's digest arrived"
        # The digest's "Nudges sent" counts reminders and last calls (not short-post notes).
        reminders = re.findall(r"(?:reminder|last call) → ([^·]+)", block.split("feedback (")[0])
        sent = sum(len(names.split(",")) for names in reminders)
        assert f"nudges sent: {sent}" in block, block
    assert re.search(r"excused by Ruth: \w+", blocks[2]), "a facilitator excused someone"
    assert "Anonymous feedback is on" in text
    assert "(private, to the facilitators only)" in blocks[3], "one private reflection"
    assert re.search(r"rated by DM: \w+ \d+ (helpful|not yet)", text), "writers rate feedback"
    assert "(form" in text, "someone used the Write reflection form"

    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["Learner", "R1"])
    table = [line.split() for line in lines[header + 1 : header + 6]]
    counted = Counter(
        r["member_name"] for r in rows if r["kind"] == "reflection" and r["counted"] == "yes"
    )
    for cells in table:
        name, marks, (total, _gave, _got) = cells[0], cells[1:4], cells[4:7]
        assert name in demo.NAMES
        assert int(total) == counted[name] == sum(m in "✓L" for m in marks)
    assert f"{len(rows)} rows" in text

    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR" and int.from_bytes(png[16:20]) > 100


async def test_a_seed_gives_the_same_term_and_another_seed_a_different_one(tmp_path: Path):
    first = await play(tmp_path, "a")
    again = await play(tmp_path, "b")
    other = await play(tmp_path, "c", seed=4)

    assert first[0] == again[0], "same transcript"
    assert first[1] == again[1], "byte-identical CSV"
    assert first[2] == again[2], "byte-identical PNG"
    assert first[3] == again[3], "byte-identical portfolio"
    assert other[0] != first[0]


def test_the_cli_prints_the_transcript_and_writes_the_files(tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["demo", "--members", "3", "--weeks", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert printed.err == ""
    assert "Week 1 · " in printed.out and str(out / "participation.csv") in printed.out
    assert (out / "participation.png").read_bytes().startswith(PNG_SIGNATURE)
    assert len(csv_rows((out / "participation.csv").read_bytes())) >= 1


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--members", "1"], "--members"),
        (["--members", "51"], "--members"),
        (["--weeks", "0"], "--weeks"),
        (["--weeks", "13"], "--weeks"),
        (["--seed", "abc"], "whole numbers"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path: Path, capsys, args, mentions):
    assert main(["demo", *args, "--out", str(tmp_path / "out")]) == 2
    printed = capsys.readouterr()
    lines = printed.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("praxis: ") and mentions in lines[0]
    assert printed.out == ""
    assert not (tmp_path / "out").exists()


def test_an_out_path_that_is_a_file_exits_2(tmp_path: Path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    assert main(["demo", "--out", str(taken)]) == 2
    assert "is a file" in capsys.readouterr().err


def test_without_simcord_it_says_how_to_install_it(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "simcord", None)  # makes `import simcord` fail
    assert main(["demo", "--out", str(tmp_path / "out")]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert 'pip install -e ".[demo]"' in line
    assert not (tmp_path / "out").exists()


def test_the_demo_texts_name_nobody():
    """A text the identifier check flags would stop the form with a privacy warning."""
    texts = (
        *demo.REFLECTION_SENTENCES,
        *demo.SHORT_REFLECTIONS,
        *demo.FEEDBACK_SENTENCES,
        *demo.SHORT_FEEDBACK,
    )
    assert [t for t in texts if find_identifiers(t)] == []
    longest_short = max(len(t.split()) for t in demo.SHORT_FEEDBACK)
    assert (
        longest_short
        < demo.FEEDBACK_MIN_WORDS
        <= min(len(t.split()) for t in demo.FEEDBACK_SENTENCES)
    )
    assert max(len(t.split()) for t in demo.SHORT_REFLECTIONS) < demo.MIN_WORDS


# ------------------------------------------------------------------ the portfolio page

VOID = {"meta", "link", "br", "hr", "img", "input", "wbr", "col", "area", "base", "source"}
CUTTING_CSS = (
    r"overflow\s*:\s*(hidden|clip)",
    r"overflow-[xy]\s*:\s*(hidden|clip)",
    r"text-overflow",
    r"white-space\s*:\s*nowrap",
    r"(?<![-\w])(max-)?height\s*:\s*[\d.]+",
    r"line-clamp",
)


class PortfolioPage(HTMLParser):
    """The page as a reader sees it: its visible text, its CSS, and each round's
    reflection paragraphs (``section id`` → texts under "My reflection")."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.visible: list[str] = []
        self.css: list[str] = []
        self.rounds: dict[str, list[str]] = {}
        self.section = self.heading = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.css.append(attrs.get("style") or "")
        if tag == "section":
            self.section, self.heading = attrs.get("id", ""), ""
            self.rounds[self.section] = []
        if tag not in VOID:
            self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        tags = [t for t, _ in self.stack]
        if "style" in tags:
            self.css.append(data)
            return
        if "script" in tags:
            return
        self.visible.append(data)
        if tags and tags[-1] == "h3":
            self.heading = data.strip()
        elif self.section and self.heading == "My reflection" and self.in_text():
            self.rounds[self.section].append(data)

    def in_text(self) -> bool:
        return "text" in (self.stack[-1][1].get("class") or "").split()


def font_cmap() -> set[int] | None:
    """The code points the page's CJK fallback font (as chart.py finds it) can draw."""
    try:
        from fontTools.ttLib import TTFont
        from noto_cjk_sans_jp_regular import FONT_PATH
    except ImportError:
        return None
    with TTFont(FONT_PATH, lazy=True) as font:
        return set(font.getBestCmap())


def check_portfolio(path: Path, weeks: int, rows: list[dict[str, str]]) -> None:
    """The portfolio renders without a missing glyph or a cut line: every round is there,
    the learner's reflections appear whole, no CSS can clip text, every character drawable."""
    name = path.stem.removeprefix("portfolio-")
    page = PortfolioPage()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    text = "".join(page.visible)

    assert sorted(page.rounds) == sorted(f"c1-r{n}" for n in range(1, weeks + 1))
    mine = [r for r in rows if r["kind"] == "reflection" and r["member_name"].lower() == name]
    written = {f"c1-r{r['round']}" for r in mine}
    assert written and {s for s, texts in page.rounds.items() if texts} == written
    whole = set(demo.REFLECTION_SENTENCES) | set(demo.SHORT_REFLECTIONS)
    for section in written:
        body = "\n".join(page.rounds[section])
        lines = [line for line in body.splitlines() if line and not line.startswith("**")]
        sentences = re.findall(r"[^.;]*?[.!?](?=\s|$)|[^.]+;[^.]+\.", " ".join(lines))
        assert lines and all(s.strip() in whole for s in sentences), body
        counted = sum(len(s.split()) for s in sentences)
        assert counted == sum(len(x.split()) for x in whole if x in body), body

    css = "\n".join(page.css)
    for pattern in CUTTING_CSS:
        assert not re.search(pattern, css), f"CSS that could cut text: {pattern}"

    odd = {c for c in text if not (c.isprintable() or c.isspace()) or c == "\ufffd"}
    assert not odd, f"unprintable characters: {odd!r}"
    assert "**" not in text, "a form heading shows its markdown asterisks"
    cmap = font_cmap()
    if cmap is not None:
        missing = {c for c in text if not c.isspace() and ord(c) not in cmap}
        assert not missing, f"characters no font on the page covers: {missing!r}"


async def test_a_learner_runs_me_portfolio_and_the_page_renders_whole(tmp_path: Path):
    out = tmp_path / "a"
    result = await demo.run_demo(demo.DemoOptions(members=5, weeks=3, seed=3, out=out))

    assert result.portfolio_path.parent == out
    assert result.portfolio_path.name.startswith("portfolio-")
    said = re.sub(r"\s+", " ", "\n".join(result.lines))
    assert f"ran /me portfolio → {result.portfolio_path}" in said
    check_portfolio(result.portfolio_path, 3, csv_rows(result.csv_path.read_bytes()))
