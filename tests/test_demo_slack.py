"""``praxis demo --platform slack``: the same term on slacksim, agreeing with its own reports."""

from __future__ import annotations

import logging
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot import demo
from bot.cli import main
from tests.slack_helpers import assert_no_errors_logged
from tests.test_demo import PNG_SIGNATURE, check_portfolio, csv_rows, weeks


@pytest.fixture(autouse=True)
def no_errors(caplog):
    """A Slack handler that failed would apologise and log, and the term might go on."""
    caplog.set_level(logging.WARNING)
    yield
    assert_no_errors_logged(caplog)


async def play(tmp_path: Path, name: str, seed: int = 3) -> tuple[str, bytes, bytes, bytes]:
    out = tmp_path / name
    options = demo.DemoOptions(members=5, weeks=3, seed=seed, out=out, platform="slack")
    result = await demo.run_demo(options)
    text = "\n".join(result.lines).replace(str(out), "OUT")
    files = result.csv_path, result.png_path, result.portfolio_path
    return text, *(path.read_bytes() for path in files)


async def test_the_slack_term_agrees_with_the_export_and_uses_slacks_ways(tmp_path: Path):
    text, data, png, _page = await play(tmp_path, "a")

    assert "simulated Slack (slacksim)" in text.splitlines()[0]
    assert "/praxis create, then the form" in text and "ran /praxis me nudges off." in text
    rows = csv_rows(data)
    per_round = Counter((int(r["round"]), r["kind"]) for r in rows)
    blocks = weeks(text)
    assert sorted(blocks) == [1, 2, 3]
    for number, block in blocks.items():
        reflected = int(re.search(r"reflections \((\d+)\)", block)[1])
        given = int(re.search(r"\bfeedback \((\d+)\)", block)[1])
        assert per_round[(number, "reflection")] == reflected, block
        assert per_round[(number, "feedback")] == given, block
        reminders = re.findall(r"(?:reminder|last call) → ([^·]+)", block.split("feedback (")[0])
        sent = sum(len(names.split(",")) for names in reminders)
        assert f"nudges sent: {sent}" in block, "the digest in Ruth's DMs counts the nudges"
    assert re.search(r"excused by Ruth: \w+", blocks[2]), "/praxis excuse"
    assert "Anonymous feedback is on" in text
    assert "(private, to the facilitators only)" in blocks[3], "one private reflection"
    assert re.search(r"rated by DM: \w+ \d+ (helpful|not yet)", text), "writers rate feedback"
    assert "(form" in text, "someone used the Write reflection button"
    assert "via Give feedback" in text, "someone used the Give feedback shortcut"

    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["Learner", "R1"])
    counted = Counter(
        r["member_name"] for r in rows if r["kind"] == "reflection" and r["counted"] == "yes"
    )
    for cells in (line.split() for line in lines[header + 1 : header + 6]):
        name, marks, total = cells[0], cells[1:4], cells[4]
        assert int(total) == counted[name] == sum(m in "✓L" for m in marks)
    assert f"/praxis report export → OUT/participation.csv ({len(rows)} rows" in text
    assert png.startswith(PNG_SIGNATURE) and int.from_bytes(png[16:20]) > 100


async def test_a_learner_runs_praxis_me_portfolio_and_the_page_renders_whole(tmp_path: Path):
    out = tmp_path / "a"
    options = demo.DemoOptions(members=5, weeks=3, seed=3, out=out, platform="slack")
    result = await demo.run_demo(options)

    assert result.portfolio_path.parent == out
    said = re.sub(r"\s+", " ", "\n".join(result.lines))
    assert f"ran /praxis me portfolio → {result.portfolio_path}" in said
    check_portfolio(result.portfolio_path, 3, csv_rows(result.csv_path.read_bytes()))


async def test_a_seed_gives_the_same_slack_term_twice_in_one_process(tmp_path: Path):
    first = await play(tmp_path, "a")
    again = await play(tmp_path, "b")
    other = await play(tmp_path, "c", seed=4)

    assert first[0] == again[0], "same transcript"
    assert first[1] == again[1], "byte-identical CSV"
    assert first[2] == again[2], "byte-identical PNG"
    assert first[3] == again[3], "byte-identical portfolio"
    assert other[0] != first[0]


def test_the_cli_plays_on_slack_without_simcord(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "simcord", None)  # slacksim ships with Praxis
    out = tmp_path / "out"
    args = ["demo", "--platform", "slack", "--members", "3", "--weeks", "1", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr()
    assert printed.err == ""
    assert "Week 1 · " in printed.out and str(out / "participation.csv") in printed.out
    assert (out / "participation.png").read_bytes().startswith(PNG_SIGNATURE)
    assert len(csv_rows((out / "participation.csv").read_bytes())) >= 1


def test_an_unknown_platform_exits_2_naming_the_choices(tmp_path: Path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["demo", "--platform", "teams", "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2
    said = capsys.readouterr().err
    assert "--platform" in said and "discord" in said and "slack" in said
    assert not (tmp_path / "out").exists()
