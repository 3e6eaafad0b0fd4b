"""``praxis demo``: a simulated term whose transcript agrees with the bot's own reports."""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot import demo
from bot.cli import main
from bot.core.privacy import find_identifiers

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def play(tmp_path: Path, name: str, seed: int = 3) -> tuple[str, bytes, bytes]:
    """Run a small term; the transcript with its folder replaced, so runs compare."""
    out = tmp_path / name
    result = await demo.run_demo(demo.DemoOptions(members=5, weeks=3, seed=seed, out=out))
    text = "\n".join(result.lines).replace(str(out), "OUT")
    return text, result.csv_path.read_bytes(), result.png_path.read_bytes()


def weeks(text: str) -> dict[int, str]:
    """Each week's block of the transcript, wrapped lines joined back up."""
    flat = re.sub(r"\n {4,}", " ", text)
    blocks = re.split(r"\n\n", flat)
    return {int(b.split()[1]): b for b in blocks if b.startswith("Week ")}


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def test_the_transcript_agrees_with_the_csv_and_chart(tmp_path: Path):
    text, data, png = await play(tmp_path, "a")

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
