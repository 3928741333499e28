"""The three-colour palette shared by the renderer, the packers and the mock display."""

from __future__ import annotations

from PIL import Image, ImageChops

WHITE = 0
BLACK = 1
RED = 2

PALETTE_RGB: tuple[tuple[int, int, int], ...] = ((255, 255, 255), (0, 0, 0), (255, 0, 0))

# Flat [r, g, b, r, g, b, ...] form that Pillow's putpalette/getpalette use.
_FLAT_PALETTE: list[int] = [channel for colour in PALETTE_RGB for channel in colour]

# Point tables (256 entries) used by the classifier below; built once at import, cheap.
_AT_LEAST_128 = [255 if v >= 128 else 0 for v in range(256)]
_BELOW_255 = [255 if v < 255 else 0 for v in range(256)]
_IS_255 = [255 if v == 255 else 0 for v in range(256)]
_MASK_TO_ONE = [1 if v else 0 for v in range(256)]
_MASK_TO_TWO = [2 if v else 0 for v in range(256)]


def new_frame(size: tuple[int, int]) -> Image.Image:
    """Return a blank (all white) palette image of ``size`` for the renderer to draw into."""
    frame = Image.new("P", size, WHITE)
    frame.putpalette(_FLAT_PALETTE)
    return frame


def is_palette_frame(image: Image.Image) -> bool:
    """Return True if ``image`` is mode "P" with exactly our three-colour palette.

    Such an image is used as is, without a scan of its pixels: its indices must be 0, 1 or 2
    (indices beyond a three-entry palette name no colour, so no valid frame has them).
    """
    return (
        image.mode == "P"
        and "transparency" not in image.info
        and image.getpalette("RGB") == _FLAT_PALETTE
    )


def to_palette(image: Image.Image) -> Image.Image:
    """Map any image to our three-colour "P" image, each pixel to its nearest colour, no dither.

    Transparent pixels count as white (the panel's background). "Nearest" is plain Euclidean
    distance in RGB; ties go to the lower palette index (white, then black, then red).
    The input is never modified; a new image is always returned.
    """
    if is_palette_frame(image):
        return image.copy()
    return _classify(_flatten_to_rgb(image))


def _flatten_to_rgb(image: Image.Image) -> Image.Image:
    """Return an RGB version of ``image`` with any transparency composited onto white."""
    if image.mode == "RGB":
        return image
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _classify(rgb: Image.Image) -> Image.Image:
    """Classify an RGB image into palette indices exactly, using only C-speed Pillow operations.

    With squared distances to white, black and red, red beats black iff r >= 128, red beats
    white iff g + b < 255, and white beats black iff r + g + b > 382.5. So a pixel is red if
    r >= 128 and g + b <= 254, black if r < 128 and r + g + b <= 382, white otherwise.
    The sums come from ``convert("L", matrix=...)`` with integer weights, which Pillow computes
    in float and clips to 0..255 — exact for these comparisons.
    """
    red_channel = rgb.getchannel("R")
    r_high = red_channel.point(_AT_LEAST_128)
    gb_low = rgb.convert("L", matrix=(0, 1, 1, 0)).point(_BELOW_255)
    # r + g + b - 128 reaches the 255 clip exactly when r + g + b >= 383.
    sum_high = rgb.convert("L", matrix=(1, 1, 1, -128)).point(_IS_255)
    red = ImageChops.darker(r_high, gb_low)  # darker = per-pixel min = AND of 0/255 masks
    black = ImageChops.darker(ImageChops.invert(r_high), ImageChops.invert(sum_high))
    return frame_from_masks(black, red)


def frame_from_masks(black: Image.Image, red: Image.Image) -> Image.Image:
    """Build our "P" image from two "L" masks (255 = set); red wins where both are set."""
    not_red = ImageChops.invert(red)
    black_only = ImageChops.darker(black, not_red)
    indices = ImageChops.add(black_only.point(_MASK_TO_ONE), red.point(_MASK_TO_TWO))
    return frame_from_indices(indices.tobytes(), red.size)


def frame_from_indices(indices: bytes, size: tuple[int, int]) -> Image.Image:
    """Wrap one byte per pixel of palette indices (0, 1, 2) as our "P" image."""
    frame = Image.frombytes("P", size, indices)
    frame.putpalette(_FLAT_PALETTE)
    return frame
