"""The golden-image cases: each is a demo scenario drawn on a panel with a look."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from PIL import Image

import drivers
from homeboard.config import Config
from homeboard.demo import demo_config, demo_moment, demo_snapshots
from homeboard.model import BoardState, compose
from homeboard.render import layout, render
from homeboard.render import text as text_module


@dataclass(frozen=True)
class Case:
    """One golden image: a scenario, a panel and config overrides."""

    name: str
    scenario: str = "default"
    panel: str = "waveshare_epd7in5b_v2"
    orientation: str = "landscape"
    days: int = 4
    overrides: tuple[tuple[str, object], ...] = ()

    def config(self) -> Config:
        """The demo config with this case's overrides."""
        config = demo_config()
        layout = dataclasses.replace(config.layout, orientation=self.orientation, days=self.days)
        return dataclasses.replace(config, layout=layout, **dict(self.overrides))

    def state(self, now: datetime | None = None) -> BoardState:
        """The composed state of this case at its fixed moment."""
        config = self.config()
        moment = now or demo_moment(config, self.scenario)
        return compose(config, demo_snapshots(config, moment, scenario=self.scenario), moment)

    def draw(self) -> Image.Image:
        """The frame, exactly as the panel would receive it."""
        frame = render(self.state(), drivers.PANELS[self.panel], orientation=self.orientation)
        return frame


CASES: tuple[Case, ...] = (
    Case("day", scenario="plain"),
    Case("birthday"),
    Case("no-weather", scenario="no-weather"),
    Case("busy-15-events", scenario="busy"),
    Case("long-titles-i18n", scenario="long"),
    Case("stale", scenario="stale"),
    Case("dst-day", scenario="dst"),
    Case("12h-metric", overrides=(("units", "metric"), ("clock", "12h"))),
    Case("24h-metric-de", overrides=(("units", "metric"), ("clock", "24h"), ("language", "de"))),
    Case("panel-v1-640x384", panel="waveshare_epd7in5b_v1"),
    Case("panel-hd-880x528", panel="waveshare_epd7in5b_hd"),
    Case("portrait", orientation="portrait"),
    Case("seven-days", days=7),
    Case("today-only", days=1),
    # Boards in other languages and scripts, titles typed in them (right to left: ar, he),
    # each with its locale's own clock (the demo household's 12h is an American habit).
    *(
        Case(
            f"lang-{language}", scenario="i18n", overrides=(("language", language), ("clock", None))
        )
        for language in ("th", "hi", "ar", "he", "ja", "pt_BR")
    ),
    Case(
        "lang-ar-portrait",
        scenario="i18n",
        orientation="portrait",
        overrides=(("language", "ar"), ("clock", None)),
    ),
)


# --------------------------------------------------------------------------- #
# What the frame says: every text the layout draws, as it is drawn
# --------------------------------------------------------------------------- #

LAYOUT_MODULES = [
    importlib.import_module(f"{layout.__name__}.{info.name}")
    for info in pkgutil.iter_modules(layout.__path__)
]


@dataclass(frozen=True)
class Shown:
    """One text on the frame: as drawn (cut to its box), as asked for, where and in what ink."""

    text: str
    asked: str
    box: tuple[int, int, int, int]
    fill: int

    @property
    def cut(self) -> bool:
        """True when the text did not fit its box and lost its end."""
        return self.text != text_module.clean_text(self.asked)


@contextlib.contextmanager
def recording_texts() -> Iterator[list[Shown]]:
    """Record every text the layout draws while the block runs (the drawing is unchanged)."""
    real = text_module.draw_text
    shown: list[Shown] = []

    def spy(image, box, text, **kwargs):  # type: ignore[no-untyped-def]
        width = box[2] - box[0]
        if kwargs.get("truncate", True) and width > 0:
            drawn = text_module.fit_text(text, kwargs["font"], width)
        else:
            drawn = text_module.clean_text(text)
        shown.append(Shown(drawn, text, tuple(box), kwargs["fill"]))
        return real(image, box, text, **kwargs)

    users = [mod for mod in LAYOUT_MODULES if getattr(mod, "draw_text", None) is real]
    assert users, "no layout module draws text through draw_text"
    with pytest.MonkeyPatch.context() as mp:
        for mod in users:
            mp.setattr(mod, "draw_text", spy)
        yield shown


def texts_of(
    state: BoardState, panel: str = "waveshare_epd7in5b_v2", orientation: str = "landscape"
) -> list[Shown]:
    """Render ``state`` and return every text the frame shows."""
    with recording_texts() as shown:
        render(state, drivers.PANELS[panel], orientation=orientation)  # type: ignore[arg-type]
    return shown
