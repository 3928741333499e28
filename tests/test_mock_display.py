"""The mock display: PNGs of exactly what the panel would show, and the push log."""

from __future__ import annotations

import hashlib
import json
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
