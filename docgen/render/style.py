"""PDF style: page size, margins, font size and colours, read from ``pdf-style.toml`` in the
templates folder so an agency can change them without touching code."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from reportlab.lib import colors

from ..errors import StyleError


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
            raise StyleError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
        values = {}
        for key, given in data.items():
            value = given
            if key.endswith("_color") or key.endswith("_background") or key.endswith("_text"):
                try:
                    value = colors.HexColor(given)
                except (ValueError, TypeError):
                    raise StyleError(f"{path}: {key} must be a colour like \"#1f4e79\"") from None
            values[key] = value
        if values.get("page_size", "letter").lower() not in ("letter", "a4"):
            raise StyleError(f"{path}: page_size must be letter or a4")
        if values.get("compression", "fast") not in ("fast", "small"):
            raise StyleError(f"{path}: compression must be fast or small")
        return cls(**values)
