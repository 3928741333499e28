"""On a Raspberry Pi with a panel attached: HOMEBOARD_TEST_HARDWARE=1 ./scripts/test -m hardware

The panel to drive is HOMEBOARD_TEST_PANEL (default waveshare_epd7in5b_v2). Each test
takes about a refresh (16-31 s) and leaves the panel asleep and unpowered.
"""

from __future__ import annotations

import hashlib
import os
import time

import pytest

import drivers

pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(os.environ.get("HOMEBOARD_TEST_HARDWARE") != "1",
                       reason="needs a panel: set HOMEBOARD_TEST_HARDWARE=1 on a Pi"),
]

PANEL = os.environ.get("HOMEBOARD_TEST_PANEL", "waveshare_epd7in5b_v2")


def test_test_pattern_then_clear_on_the_real_panel() -> None:
    with drivers.open_display(PANEL) as display:
        start = time.monotonic()
        sha = display.show(drivers.test_pattern(PANEL))
        shown = time.monotonic() - start
        expected = hashlib.sha256(drivers.pack(drivers.test_pattern(PANEL), PANEL)).hexdigest()
        assert sha == expected
        assert shown < 60, f"a refresh took {shown:.1f} s"
        display.clear()


def test_the_real_panel_can_be_opened_again_and_again() -> None:
    # File handles and GPIO claims are released after every refresh.
    for _ in range(2):
        with drivers.open_display(PANEL) as display:
            display.clear()
