"""The golden-image cases: each is a demo scenario drawn on a panel with a look."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from PIL import Image

import drivers
from homeboard.config import Config
from homeboard.demo import demo_config, demo_moment, demo_snapshots
from homeboard.model import BoardState, compose
from homeboard.render import render


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
        layout = dataclasses.replace(
            config.layout, orientation=self.orientation, days=self.days
        )
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
)
