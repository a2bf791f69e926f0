"""Write docgen/color/sRGB.icc, the sRGB profile of the PDFs' PDF/A output intent.

    .venv/bin/python tools/make_srgb_icc.py

The profile is LittleCMS's built-in sRGB (``cmsCreate_sRGBProfile``: IEC 61966-2.1 primaries and
D65 white point adapted to D50, the sRGB parametric tone curve), made through Pillow's ImageCms.
LittleCMS writes "No copyright, use freely" in the profile's copyright tag; LittleCMS itself is
MIT-licensed, Pillow MIT-CMU. Its creation date is set to a fixed one so that the file does not
change each time it is made; the rest is LittleCMS's bytes. The file is committed: rendering
never runs this, and the PDFs do not change with the Pillow or LittleCMS installed.
"""
from __future__ import annotations

import struct
from pathlib import Path

from PIL import ImageCms

OUT = Path(__file__).resolve().parent.parent / "docgen" / "color" / "sRGB.icc"
CREATED = (2026, 1, 1, 0, 0, 0)


def main() -> None:
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    if data[36:40] != b"acsp" or data[12:24] != b"mntrRGB XYZ ":
        raise SystemExit("LittleCMS did not make an RGB display profile")
    data[24:36] = struct.pack(">6H", *CREATED)  # dateTimeNumber: year, month, day, hours, minutes, seconds
    OUT.write_bytes(bytes(data))
    print(f"{OUT}: {len(data)} bytes, ICC {data[8]}.{data[9] >> 4}")


if __name__ == "__main__":
    main()
