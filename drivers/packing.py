"""Frame packing: a three-colour image to exactly the bytes a panel receives, and back.

Everything here runs at C speed inside Pillow or ``bytes.translate``; no Python code runs
per pixel or per byte. The trick for the 1-bit planes: Pillow's "P;2" raw packer puts four
2-bit palette indices in one byte, a 256-entry translate table turns that byte into a 4-bit
nibble for one plane, and the "P;4" packer joins two nibbles into the final byte.
"""

from __future__ import annotations

from PIL import Image, ImageChops

from .errors import DisplayError
from .palette import BLACK, RED, WHITE, frame_from_indices, frame_from_masks, is_palette_frame
from .palette import to_palette as _to_palette
from .panels import PanelSpec, panel_spec

# V1 wire nibbles (4 bits per pixel): documented by the vendor's epd7in5bc.py.
V1_NIBBLE = {BLACK: 0x0, WHITE: 0x3, RED: 0x4}


def _plane_table(is_set: dict[int, int]) -> bytes:
    """Table from a "P;2" byte (four 2-bit indices, first pixel in the top bits) to a nibble."""
    table = bytearray(256)
    for byte in range(256):
        nibble = 0
        for shift in (6, 4, 2, 0):
            nibble = (nibble << 1) | is_set.get((byte >> shift) & 3, 0)
        table[byte] = nibble
    return bytes(table)


# Black/white plane: 1 = white, 0 = black; a red pixel is 1 here (the red plane paints it).
_NOT_BLACK_TABLE = _plane_table({WHITE: 1, RED: 1, 3: 1})
# Red plane: 1 = red.
_RED_TABLE = _plane_table({RED: 1})


def _v1_pack_table() -> bytes:
    """Table from a "P;4" byte (two indices) to two V1 wire nibbles; unknown indices are white."""
    table = bytearray(256)
    for byte in range(256):
        first = V1_NIBBLE.get(byte >> 4, V1_NIBBLE[WHITE])
        second = V1_NIBBLE.get(byte & 0xF, V1_NIBBLE[WHITE])
        table[byte] = (first << 4) | second
    return bytes(table)


def _v1_unpack_table() -> bytes:
    """Table from two V1 wire nibbles to two palette indices; unknown nibbles read as white."""
    index_of = {nibble: index for index, nibble in V1_NIBBLE.items()}
    table = bytearray(256)
    for byte in range(256):
        table[byte] = (index_of.get(byte >> 4, WHITE) << 4) | index_of.get(byte & 0xF, WHITE)
    return bytes(table)


# Portrait frames are turned counter-clockwise onto the landscape panel, as the vendor code
# does; the inverse turns an unpacked landscape frame back into the portrait picture.
PORTRAIT_TO_PANEL = Image.Transpose.ROTATE_90
PORTRAIT_TO_PANEL_INVERSE = Image.Transpose.ROTATE_270

_V1_PACK_TABLE = _v1_pack_table()
_V1_UNPACK_TABLE = _v1_unpack_table()


def landscape(frame: Image.Image, panel: str | PanelSpec) -> Image.Image:
    """Return ``frame`` in the panel's landscape orientation, or raise DisplayError if mis-sized.

    A portrait frame (the panel's size transposed) is turned 90 degrees counter-clockwise,
    as the vendor code does: the top of the portrait picture lands on the panel's left edge,
    so mount the panel with that edge up. The input image is never modified.
    """
    spec = panel_spec(panel)
    if frame.size == spec.size:
        return frame
    if frame.size == (spec.height, spec.width):
        return frame.transpose(PORTRAIT_TO_PANEL)
    width, height = frame.size
    raise DisplayError(
        f"frame is {width}x{height} but panel {spec.name} is {spec.width}x{spec.height} "
        f"(or {spec.height}x{spec.width} in portrait)"
    )


def pack(image: Image.Image, panel: str | PanelSpec) -> bytes:
    """Pack a frame into exactly the bytes the panel receives, all planes in send order.

    ``image`` is our palette image (see ``drivers.palette.new_frame``) or any other mode, whose
    pixels are then mapped to the nearest of white, black and red without dithering.
    """
    spec = panel_spec(panel)
    frame = landscape(image, spec)
    if not is_palette_frame(frame):
        frame = _to_palette(frame)
    if spec.bits_per_pixel == 4:
        # "P;4" puts two indices in a byte; the table swaps each for its wire nibble.
        # bytearray.translate runs about 1.5x faster than bytes.translate (measured).
        return bytes(bytearray(frame.tobytes("raw", "P;4")).translate(_V1_PACK_TABLE))
    quads = bytearray(frame.tobytes("raw", "P;2"))
    nibbles_size = (spec.width // 4, spec.height)
    return _pack_nibbles(quads.translate(_NOT_BLACK_TABLE), nibbles_size) + _pack_nibbles(
        quads.translate(_RED_TABLE), nibbles_size
    )


def _pack_nibbles(nibbles: bytearray, size: tuple[int, int]) -> bytes:
    """Join pairs of nibbles (one per byte, in the low 4 bits) into bytes, first one high."""
    # frombuffer wraps the bytearray without a copy; the image is dropped before it changes.
    return Image.frombuffer("P", size, nibbles, "raw", "P", 0, 1).tobytes("raw", "P;4")


def unpack(data: bytes, panel: str | PanelSpec) -> Image.Image:
    """Turn packed panel bytes back into our palette image (landscape): what the panel shows.

    On the two-plane panels a pixel set in the red plane shows red whatever its black/white
    bit says, as the controllers do.
    """
    spec = panel_spec(panel)
    if len(data) != spec.frame_bytes:
        raise DisplayError(f"{spec.name} frames are {spec.frame_bytes} bytes, got {len(data)}")
    if spec.bits_per_pixel == 4:
        indices = Image.frombytes(
            "P", spec.size, bytes(data).translate(_V1_UNPACK_TABLE), "raw", "P;4"
        )
        return frame_from_indices(indices.tobytes(), spec.size)
    half = spec.plane_bytes
    white = Image.frombytes("1", spec.size, bytes(data[:half])).convert("L")
    red = Image.frombytes("1", spec.size, bytes(data[half:])).convert("L")
    return frame_from_masks(ImageChops.invert(white), red)
