"""What the product knows about each supported panel: size, wire format, BUSY polarity."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PanelSpec:
    """Static facts about one panel model, keyed by its driver name."""

    name: str
    width: int
    height: int
    description: str
    bits_per_pixel: int  # on the wire, summed over all planes
    plane_commands: tuple[int, ...]  # RAM-write commands, in the order the planes are sent
    busy_level: int  # BUSY pin level that means "busy"

    @property
    def size(self) -> tuple[int, int]:
        """Landscape size (width, height) in pixels."""
        return (self.width, self.height)

    @property
    def frame_bytes(self) -> int:
        """Bytes the panel receives per frame, all planes together."""
        return self.width * self.height * self.bits_per_pixel // 8

    @property
    def plane_bytes(self) -> int:
        """Bytes in each plane."""
        return self.frame_bytes // len(self.plane_commands)


PANELS: dict[str, PanelSpec] = {
    spec.name: spec
    for spec in (
        PanelSpec(
            name="waveshare_epd7in5b_v2",
            width=800,
            height=480,
            description='Waveshare 7.5" (B) V2/V3, 800x480, black/white 0x10 + red 0x13 planes',
            bits_per_pixel=2,
            plane_commands=(0x10, 0x13),
            busy_level=0,
        ),
        PanelSpec(
            name="waveshare_epd7in5b_v1",
            width=640,
            height=384,
            description='Waveshare 7.5" (B) V1, 640x384, one 4-bit-per-pixel stream after 0x10',
            bits_per_pixel=4,
            plane_commands=(0x10,),
            busy_level=0,
        ),
        PanelSpec(
            name="waveshare_epd7in5b_hd",
            width=880,
            height=528,
            description='Waveshare 7.5" (B) HD, 880x528, black/white RAM 0x24 + red RAM 0x26',
            bits_per_pixel=2,
            plane_commands=(0x24, 0x26),
            busy_level=1,
        ),
    )
}


def panel_spec(panel: str | PanelSpec) -> PanelSpec:
    """Return the spec for a panel name (or pass a spec through); unknown names list valid ones."""
    if isinstance(panel, PanelSpec):
        return panel
    try:
        return PANELS[panel]
    except KeyError:
        valid = ", ".join(PANELS)
        raise ValueError(f"unknown panel {panel!r}; valid panels: {valid}") from None
