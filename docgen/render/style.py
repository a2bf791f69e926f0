"""PDF style: page size, margins, font size and colours, read from ``pdf-style.toml`` in the
templates folder so an agency can change them without touching code."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from reportlab.lib import colors

from ..errors import StyleError

#: Numeric settings and the ranges a readable page allows (a typo such as 95 for 9.5 is refused).
RANGES: dict[str, tuple[float, float]] = {"font_size": (6.0, 16.0), "margin_inch": (0.25, 2.0)}
#: Settings with a fixed set of values.
CHOICES: dict[str, tuple[str, ...]] = {"page_size": ("letter", "a4"), "compression": ("fast", "small")}
#: The logo's limits: a file of at most this many bytes, an image of at most this many pixels a side.
LOGO_BYTES, LOGO_PIXELS = 2 * 1024 * 1024, 4000
LOGO_FORMATS = {"PNG": "PNG", "JPEG": "JPEG"}


def _logo(folder: Path, value: object) -> str:
    """The logo's absolute path: a PNG or JPEG image inside the templates folder, within the limits;
    anything else raises ValueError saying what is wrong."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a file name")
    candidate = Path(value)
    if candidate.is_absolute():
        raise ValueError("a path relative to the templates folder")
    path = (folder / candidate).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise ValueError("inside the templates folder")
    if not path.is_file():
        raise ValueError("an existing file")
    if path.stat().st_size > LOGO_BYTES:
        raise ValueError(f"at most {LOGO_BYTES // (1024 * 1024)} MiB")
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415 - only when a style names a logo

    try:
        with Image.open(path) as image:
            kind, (width, height) = image.format, image.size
            if kind not in LOGO_FORMATS:
                raise ValueError("a PNG or JPEG image")
            if not (0 < width <= LOGO_PIXELS and 0 < height <= LOGO_PIXELS):
                raise ValueError(f"at most {LOGO_PIXELS}x{LOGO_PIXELS} pixels")
            image.verify()  # the whole file read: a truncated or corrupt image is refused here
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValueError("a readable PNG or JPEG image") from None
    return str(path)


@dataclass(frozen=True)
class PdfStyle:
    page_size: str = "letter"  # letter | a4
    margin_inch: float = 0.8
    font_size: float = 9.5
    text_color: colors.Color = colors.HexColor("#1d1d1f")
    muted_color: colors.Color = colors.HexColor("#4a4f57")
    accent_color: colors.Color = colors.HexColor("#1f4e79")
    rule_color: colors.Color = colors.HexColor("#9aa5b1")
    table_header_background: colors.Color = colors.HexColor("#dbe5f0")
    table_header_text: colors.Color = colors.HexColor("#10263d")
    label_background: colors.Color = colors.HexColor("#f1f4f8")
    compression: str = "fast"  # fast | small: zlib level 1 (about 5% larger files) or reportlab's default
    logo: str = ""  # absolute path of a PNG or JPEG drawn in the header; given relative to the templates folder

    @classmethod
    def load(cls, path: Path) -> PdfStyle:
        if not path.is_file():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise StyleError(f"{path}: {exc}") from None
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise StyleError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))} "
                             f"(known: {', '.join(sorted(known))})")
        values = {}
        for key, given in data.items():
            value = given
            if key in RANGES:
                low, high = RANGES[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                    raise StyleError(f"{path}: {key} must be a number between {low:g} and {high:g}")
                value = float(value)
            elif key == "logo":
                try:
                    value = _logo(path.parent, value)
                except ValueError as exc:
                    raise StyleError(f"{path}: logo must be {exc} (a PNG or JPEG in the templates folder, "
                                     f"at most {LOGO_BYTES // (1024 * 1024)} MiB and {LOGO_PIXELS}x{LOGO_PIXELS} "
                                     "pixels)") from None
            elif key in CHOICES:
                if not isinstance(value, str) or value.lower() not in CHOICES[key]:
                    raise StyleError(f"{path}: {key} must be one of {', '.join(CHOICES[key])}")
                value = value.lower()
            else:  # a colour
                try:
                    if not isinstance(value, str):
                        raise TypeError
                    value = colors.HexColor(value)
                except (ValueError, TypeError):
                    raise StyleError(f"{path}: {key} must be a colour like \"#1f4e79\"") from None
            values[key] = value
        return cls(**values)
