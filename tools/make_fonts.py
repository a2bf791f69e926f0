"""Build the script fonts in docgen/fonts/ (run once by developers; the results are committed).

    apt-get install fonts-noto-core          # Noto Sans Arabic, Hebrew, Devanagari, Thai (static TTF)
    pip download --no-deps justmytype-intl-cjk manimgx-fonts   # Noto Sans KR and Noto Emoji (variable TTF)
    pip install fonttools
    python tools/make_fonts.py --kr 'NotoSansKR[wght].ttf' --emoji 'NotoEmoji[wght].ttf'

Every font is Noto, under the SIL Open Font License 1.1 (docgen/fonts/LICENSE-Noto.txt). The four
static fonts are copied as Debian ships them. reportlab embeds TrueType outlines only and reads no
variable font axes, so the two variable fonts are instanced at weight 400; Noto Sans KR (10 MB,
most of it Hanja, which Droid Sans Fallback already covers) is also cut down to Hangul: syllables,
jamo, compatibility jamo and the circled Hangul (2.7 MB instead of 10). Noto Emoji is the monochrome
Noto emoji font: the colour one (CBDT bitmaps) cannot be embedded by reportlab.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docgen" / "fonts"
STATIC = [f"NotoSans{script}-{weight}.ttf" for script in ("Arabic", "Hebrew", "Devanagari", "Thai")
          for weight in ("Regular", "Bold")]
HANGUL = [*range(0x1100, 0x1200), *range(0x3130, 0x3190), *range(0x3200, 0x3220), *range(0x3260, 0x3280),
          *range(0xA960, 0xA980), *range(0xAC00, 0xD7A4), *range(0xD7B0, 0xD800), 0x20, 0xA0, 0x25CC]


def _regular(path: Path) -> TTFont:
    font = instancer.instantiateVariableFont(TTFont(path), {"wght": 400}, updateFontNames=False)
    if "STAT" in font:
        del font["STAT"]
    font["OS/2"].usWeightClass = 400
    return font


def _name(font: TTFont, family: str, postscript: str, version: str) -> None:
    table = font["name"]
    table.removeNames(nameID=16)
    table.removeNames(nameID=17)
    for number, value in ((1, family), (2, "Regular"), (3, version), (4, f"{family} Regular"), (6, postscript)):
        table.setName(value, number, 3, 1, 0x409)
        table.setName(value, number, 1, 0, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--noto-core", type=Path, default=Path("/usr/share/fonts/truetype/noto"))
    parser.add_argument("--kr", type=Path, required=True, help="NotoSansKR[wght].ttf")
    parser.add_argument("--emoji", type=Path, required=True, help="NotoEmoji[wght].ttf")
    args = parser.parse_args()
    for name in STATIC:
        shutil.copyfile(args.noto_core / name, OUT / name)

    korean = _regular(args.kr)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    cutter = subset.Subsetter(options)
    cutter.populate(unicodes=HANGUL)
    cutter.subset(korean)
    _name(korean, "Noto Sans KR", "NotoSansKR-Regular", "2.004;ADBO;NotoSansKR-Regular;docgen Hangul subset")
    korean.save(OUT / "NotoSansKR-Hangul.ttf")

    emoji = _regular(args.emoji)
    emoji.save(OUT / "NotoEmoji-Regular.ttf")
    for path in sorted(OUT.glob("Noto*.ttf")):
        print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
