"""The mock display: PNGs of exactly what the panel would show, and the push log."""

from __future__ import annotations

import hashlib
import json
import select
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from drivers import (
    BLACK,
    PANELS,
    RED,
    DisplayError,
    MockDisplay,
    new_frame,
    open_display,
    pack,
    unpack,
)

V2 = "waveshare_epd7in5b_v2"
PURE = {(255, 255, 255), (0, 0, 0), (255, 0, 0)}


class Clock:
    """A clock that moves on one minute per reading."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def board(panel: str = V2, *, text: str = "Saturday 9 March") -> Image.Image:
    frame = new_frame(PANELS[panel].size)
    draw = ImageDraw.Draw(frame)
    draw.rectangle((0, 0, frame.width, 60), fill=RED)
    draw.text((20, 100), text, fill=BLACK)
    draw.line((0, 200, frame.width, 300), fill=BLACK, width=3)
    return frame


def log_lines(directory: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (directory / "pushes.jsonl").read_text().splitlines()]


def frame_files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.glob("frame-*.png"))


def test_a_push_writes_latest_a_numbered_frame_and_a_log_line(tmp_path: Path) -> None:
    clock = Clock(datetime(2024, 3, 9, 10, 14, tzinfo=UTC))
    display = MockDisplay(tmp_path, clock=clock)
    frame = board()
    digest = display.show(frame)
    assert digest == hashlib.sha256(pack(frame, V2)).hexdigest()
    assert frame_files(tmp_path) == ["frame-000001.png"]
    assert (tmp_path / "latest.png").read_bytes() == (tmp_path / "frame-000001.png").read_bytes()
    assert log_lines(tmp_path) == [
        {"seq": 1, "time": "2024-03-09T10:15:00+00:00", "sha256": digest, "panel": V2}
    ]


def test_log_times_are_utc_whatever_the_clock_zone(tmp_path: Path) -> None:
    paris = timezone(timedelta(hours=1))
    display = MockDisplay(tmp_path, clock=lambda: datetime(2024, 3, 9, 11, 15, tzinfo=paris))
    display.show(board())
    assert log_lines(tmp_path)[0]["time"] == "2024-03-09T10:15:00+00:00"


def test_default_clock_is_utc_now(tmp_path: Path) -> None:
    before = datetime.now(UTC)
    MockDisplay(tmp_path).show(board())
    logged = datetime.fromisoformat(str(log_lines(tmp_path)[0]["time"]))
    assert logged.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= logged <= datetime.now(UTC)


@pytest.mark.parametrize("panel", sorted(PANELS))
def test_png_is_exactly_what_the_panel_shows(tmp_path: Path, panel: str) -> None:
    display = MockDisplay(tmp_path, panel=panel)
    assert display.size == PANELS[panel].size
    # An RGB frame with off-palette colours: the PNG shows them after packing.
    frame = Image.new("RGB", display.size, (240, 240, 240))
    draw = ImageDraw.Draw(frame)
    draw.rectangle((10, 10, 200, 100), fill=(200, 30, 30))
    draw.rectangle((300, 10, 400, 100), fill=(40, 40, 40))
    display.show(frame)
    with Image.open(tmp_path / "latest.png") as png:
        png.load()
        assert png.size == PANELS[panel].size
        shown = png.convert("RGB")
    assert {colour for _, colour in shown.getcolors()} <= PURE
    expected = unpack(pack(frame, panel), panel).convert("RGB")
    assert shown.tobytes() == expected.tobytes()
    assert shown.getpixel((50, 50)) == (255, 0, 0)
    assert shown.getpixel((350, 50)) == (0, 0, 0)
    assert shown.getpixel((5, 5)) == (255, 255, 255)
    assert log_lines(tmp_path)[0]["panel"] == panel


def test_every_show_is_a_push_even_when_unchanged(tmp_path: Path) -> None:
    display = MockDisplay(tmp_path)
    first = display.show(board())
    second = display.show(board())
    assert first == second
    assert frame_files(tmp_path) == ["frame-000001.png", "frame-000002.png"]
    assert [line["seq"] for line in log_lines(tmp_path)] == [1, 2]


def test_numbering_continues_after_a_restart(tmp_path: Path) -> None:
    MockDisplay(tmp_path).show(board(text="one"))
    MockDisplay(tmp_path).show(board(text="two"))
    restarted = MockDisplay(tmp_path)
    restarted.show(board(text="three"))
    assert frame_files(tmp_path) == [f"frame-00000{n}.png" for n in (1, 2, 3)]
    assert [line["seq"] for line in log_lines(tmp_path)] == [1, 2, 3]


def test_numbering_survives_a_lost_log_or_deleted_frames(tmp_path: Path) -> None:
    display = MockDisplay(tmp_path)
    for _ in range(3):
        display.show(board())
    (tmp_path / "pushes.jsonl").unlink()
    display.show(board())
    assert "frame-000004.png" in frame_files(tmp_path)
    for path in tmp_path.glob("frame-*.png"):
        path.unlink()
    display.show(board())
    assert frame_files(tmp_path) == ["frame-000005.png"]


def test_a_torn_last_log_line_does_not_break_numbering(tmp_path: Path) -> None:
    display = MockDisplay(tmp_path)
    display.show(board())
    with (tmp_path / "pushes.jsonl").open("a") as log:
        log.write('{"seq": 2, "ti')  # a crash mid-write
    (tmp_path / "frame-000001.png").unlink()
    display.show(board())
    assert frame_files(tmp_path) == ["frame-000002.png"]


def test_two_displays_on_one_directory_do_not_overwrite_each_other(tmp_path: Path) -> None:
    service, one_off = MockDisplay(tmp_path), MockDisplay(tmp_path)
    service.show(board(text="a"))
    one_off.show(board(text="b"))
    service.show(board(text="c"))
    assert [line["seq"] for line in log_lines(tmp_path)] == [1, 2, 3]
    assert len(frame_files(tmp_path)) == 3


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    display = MockDisplay(tmp_path / "new" / "dir")
    display.show(board())
    display.show(board())
    names = sorted(path.name for path in (tmp_path / "new" / "dir").iterdir())
    assert names == ["frame-000001.png", "frame-000002.png", "latest.png", "pushes.jsonl"]


def test_portrait_frames_are_shown_in_the_panels_landscape(tmp_path: Path) -> None:
    display = MockDisplay(tmp_path)
    portrait = new_frame((480, 800))
    portrait.paste(BLACK, (0, 0, 480, 10))  # a black band along the portrait's top
    display.show(portrait)
    with Image.open(tmp_path / "latest.png") as png:
        assert png.size == (800, 480)
        shown = png.convert("RGB")
    assert shown.getpixel((5, 240)) == (0, 0, 0)  # now up the left edge
    assert shown.getpixel((400, 5)) == (255, 255, 255)


def test_wrong_size_frame_writes_nothing(tmp_path: Path) -> None:
    display = MockDisplay(tmp_path)
    with pytest.raises(DisplayError, match="800x480"):
        display.show(new_frame((640, 384)))
    assert list(tmp_path.iterdir()) == []


def test_clear_pushes_a_white_frame(tmp_path: Path) -> None:
    display = MockDisplay(tmp_path)
    display.clear()
    with Image.open(tmp_path / "latest.png") as png:
        assert png.convert("RGB").getcolors() == [(800 * 480, (255, 255, 255))]
    assert (
        log_lines(tmp_path)[0]["sha256"]
        == hashlib.sha256(pack(new_frame((800, 480)), V2)).hexdigest()
    )


def test_open_display_builds_the_mock(tmp_path: Path) -> None:
    with open_display("mock", output_dir=tmp_path, panel="waveshare_epd7in5b_hd") as display:
        assert isinstance(display, MockDisplay)
        assert display.size == (880, 528)
        assert display.min_interval == timedelta(0)
        display.show(new_frame((880, 528)))
    assert log_lines(tmp_path)[0]["panel"] == "waveshare_epd7in5b_hd"


def test_the_png_reads_back_as_the_same_frame(tmp_path: Path) -> None:
    frame = board()
    MockDisplay(tmp_path).show(frame)
    with Image.open(tmp_path / "latest.png") as png:
        assert pack(png, V2) == pack(frame, V2)


# --------------------------------------------------------------------------------------------
# Keeping the last frames only
# --------------------------------------------------------------------------------------------


def test_only_the_last_frames_are_kept_and_every_push_stays_logged(tmp_path: Path) -> None:
    display = MockDisplay(tmp_path, keep_frames=3)
    for n in range(1, 6):
        display.show(board(text=f"push {n}"))
    assert frame_files(tmp_path) == ["frame-000003.png", "frame-000004.png", "frame-000005.png"]
    assert [line["seq"] for line in log_lines(tmp_path)] == [1, 2, 3, 4, 5]
    assert (tmp_path / "latest.png").read_bytes() == (tmp_path / "frame-000005.png").read_bytes()
    # A restart numbers on from the log, not from the oldest frame left.
    MockDisplay(tmp_path, keep_frames=3).show(board(text="push 6"))
    assert frame_files(tmp_path) == ["frame-000004.png", "frame-000005.png", "frame-000006.png"]


def test_the_mock_and_the_config_keep_fifty_frames_by_default() -> None:
    from homeboard.config import DisplayConfig

    assert DisplayConfig().keep_frames == 50
    assert MockDisplay("unused").keep_frames == 50


def test_a_smaller_keep_frames_prunes_at_the_next_start(tmp_path: Path) -> None:
    display = MockDisplay(tmp_path, keep_frames=10)
    for _ in range(5):
        display.show(board())
    MockDisplay(tmp_path, keep_frames=2)
    assert frame_files(tmp_path) == ["frame-000004.png", "frame-000005.png"]


@pytest.mark.parametrize("keep", [0, -1])
def test_keep_frames_below_one_is_refused(tmp_path: Path, keep: int) -> None:
    with pytest.raises(ValueError, match="keep_frames must be at least 1"):
        MockDisplay(tmp_path, keep_frames=keep)


def test_keep_frames_comes_from_the_config(tmp_path: Path) -> None:
    from homeboard.app import display_options
    from homeboard.config import load_config
    from homeboard.errors import ConfigError

    path = tmp_path / "config.yaml"
    path.write_text(
        "weather: null\n"
        f"display:\n  driver: mock\n  output_dir: {tmp_path / 'out'}\n  keep_frames: 2\n"
    )
    options = display_options(load_config(path, env={}))
    assert options["keep_frames"] == 2
    with open_display("mock", **options) as display:
        for _ in range(3):
            display.show(board())
    assert frame_files(tmp_path / "out") == ["frame-000002.png", "frame-000003.png"]
    path.write_text("weather: null\ndisplay:\n  driver: mock\n  keep_frames: 0\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert any("display.keep_frames" in problem for problem in info.value.problems)


# --------------------------------------------------------------------------------------------
# Crash safety
# --------------------------------------------------------------------------------------------


def check_consistent(directory: Path, keep: int) -> list[dict[str, object]]:
    """What a reader of the folder relies on, whatever moment a push was killed at."""
    names = sorted(path.name for path in directory.iterdir())
    assert [name for name in names if name.endswith(".tmp")] == []
    text = (directory / "pushes.jsonl").read_text()
    assert text.endswith("\n")
    lines = [json.loads(line) for line in text.splitlines()]
    for line in lines:
        assert set(line) == {"seq", "time", "sha256", "panel"}
    seqs = [int(str(line["seq"])) for line in lines]
    assert seqs == sorted(set(seqs)), "every push has one line, in order"
    newest = seqs[-1]
    frames = {int(name[6:12]): name for name in names if name.startswith("frame-")}
    # Every frame file has its line, and every recent line its frame.
    assert set(frames) == {seq for seq in seqs if seq > newest - keep}
    by_seq = {int(str(line["seq"])): line for line in lines}
    for seq, name in frames.items():
        with Image.open(directory / name) as png:
            assert hashlib.sha256(pack(png, V2)).hexdigest() == by_seq[seq]["sha256"]
    latest = (directory / "latest.png").read_bytes()
    assert latest == (directory / frames[newest]).read_bytes()
    return lines


# Pauses a push just before its K-th file-system step (or just after creating a temporary
# file), so that the test can kill it there with SIGKILL. (An fsync makes no difference to
# what a killed process leaves behind, only to a power cut, so it is no step here.)
CRASHING_PUSH = r"""
import os, sys, tempfile, time
from PIL import ImageDraw
from drivers import BLACK, MockDisplay, new_frame

out, stop_at = sys.argv[1], int(sys.argv[2])
steps = []

def pause(step):
    steps.append(step)
    if len(steps) == stop_at:
        print("paused at", step, flush=True)
        time.sleep(120)

def before(name):
    real = getattr(os, name)
    def call(*args, **kwargs):
        pause(f"{name}({os.path.basename(str(args[0]))})")
        return real(*args, **kwargs)
    setattr(os, name, call)

for name in ("replace", "write", "unlink", "truncate"):
    before(name)
real_mkstemp = tempfile.mkstemp
def mkstemp(*args, **kwargs):
    made = real_mkstemp(*args, **kwargs)
    pause(f"after mkstemp({os.path.basename(made[1])})")
    return made
tempfile.mkstemp = mkstemp

display = MockDisplay(out, keep_frames=3)
steps.clear()  # count the push's steps only
frame = new_frame((800, 480))
ImageDraw.Draw(frame).text((10, 10), "the killed push", fill=BLACK)
display.show(frame)
print("done after", len(steps), "steps:", ", ".join(steps), flush=True)
"""


def test_a_push_killed_at_any_step_leaves_a_consistent_folder(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    base = tmp_path / "base"
    display = MockDisplay(base, keep_frames=3)
    for n in range(4):
        display.show(board(text=f"before {n}"))
    most_steps = 7
    children = []
    for stop_at in range(1, most_steps + 1):
        out = tmp_path / f"kill-{stop_at}"
        shutil.copytree(base, out)
        child = subprocess.Popen(
            [sys.executable, "-c", CRASHING_PUSH, str(out), str(stop_at)],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        children.append((out, child))
    killed, finished = [], []
    try:
        for out, child in children:
            assert child.stdout is not None
            ready, _, _ = select.select([child.stdout], [], [], 60)
            assert ready, f"the push into {out.name} neither paused nor finished in 60 s"
            said = child.stdout.readline()
            if said.startswith("paused at"):
                child.send_signal(signal.SIGKILL)
                assert child.wait(timeout=30) == -signal.SIGKILL
                killed.append((out, said.split(" at ", 1)[1].strip()))
            else:
                _, errors = child.communicate(timeout=30)
                assert said.startswith("done after"), errors
                finished.append((out, said))
    finally:
        for _, child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
            for stream in (child.stdout, child.stderr):
                if stream is not None:
                    stream.close()
    # Every step of a push was a kill point (the longest run did not reach its stop).
    assert finished, f"a push takes more than {most_steps} steps; raise most_steps"
    steps = finished[0][1]
    assert len(killed) == int(steps.split()[2]), steps
    assert any(step.startswith("after mkstemp(.frame-") for _, step in killed)
    assert any(step.startswith("write(") for _, step in killed)  # frame written, not logged
    for out, step in killed + [(out, "finished") for out, _ in finished]:
        # The next start tidies up; the next push then numbers on.
        MockDisplay(out, keep_frames=3)
        try:
            lines = check_consistent(out, keep=3)
            assert lines[-1]["seq"] in (4, 5)
            MockDisplay(out, keep_frames=3).show(board(text="after"))
            assert check_consistent(out, keep=3)[-1]["seq"] == lines[-1]["seq"] + 1
        except AssertionError as exc:
            raise AssertionError(f"killed at {step}: {exc}") from exc


def test_a_frame_written_just_before_a_crash_gets_its_own_log_line(tmp_path: Path) -> None:
    display = MockDisplay(tmp_path)
    display.show(board(text="one"))
    digest = display.show(board(text="two"))
    lines = (tmp_path / "pushes.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "pushes.jsonl").write_text(lines[0])  # killed before the line was written
    MockDisplay(tmp_path)  # the next start
    assert log_lines(tmp_path)[1] == json.loads(lines[1])
    assert log_lines(tmp_path)[1]["sha256"] == digest


def test_a_torn_last_line_is_cut_before_the_next_line(tmp_path: Path) -> None:
    display = MockDisplay(tmp_path)
    display.show(board())
    with (tmp_path / "pushes.jsonl").open("a") as log:
        log.write('{"seq": 2, "ti')  # power lost mid-append
    display.show(board())
    assert [line["seq"] for line in log_lines(tmp_path)] == [1, 2]


def test_the_next_start_puts_the_newest_frame_back_in_latest(tmp_path: Path) -> None:
    display = MockDisplay(tmp_path)
    display.show(board(text="one"))
    one = (tmp_path / "latest.png").read_bytes()
    display.show(board(text="two"))
    (tmp_path / "latest.png").write_bytes(one)  # killed before latest.png was replaced
    (tmp_path / ".latest.png.x1y2z3.tmp").write_bytes(b"")
    MockDisplay(tmp_path)
    assert (tmp_path / "latest.png").read_bytes() == (tmp_path / "frame-000002.png").read_bytes()
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "frame-000001.png",
        "frame-000002.png",
        "latest.png",
        "pushes.jsonl",
    ]


def test_files_that_are_not_the_mocks_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.tmp").write_text("mine")
    (tmp_path / "frame-000007.png").write_text("not a png")
    display = MockDisplay(tmp_path)
    display.show(board())
    assert (tmp_path / "notes.tmp").read_text() == "mine"
    assert (tmp_path / "frame-000007.png").read_text() == "not a png"
    assert [line["seq"] for line in log_lines(tmp_path)] == [8]


def test_a_frame_without_its_record_gets_a_line_rebuilt_from_its_pixels(tmp_path: Path) -> None:
    # Frames written before records were embedded: the line is rebuilt from the image.
    display = MockDisplay(tmp_path)
    display.show(board(text="one"))
    frame = board(text="two")
    unpack(pack(frame, V2), V2).save(tmp_path / "frame-000002.png")
    MockDisplay(tmp_path)
    line = log_lines(tmp_path)[1]
    assert line["seq"] == 2 and line["panel"] == V2
    assert line["sha256"] == hashlib.sha256(pack(frame, V2)).hexdigest()
    assert datetime.fromisoformat(str(line["time"])).utcoffset() == timedelta(0)
