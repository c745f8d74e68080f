"""Phone-photo-like test images made on the spot: a rendered screenshot or label, rotated, with
uneven light, a little blur and noise, saved as a low-quality JPEG."""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FACE = {"ja": 0, "ko": 1, "zh": 2}  # faces of the Noto CJK .ttc files (SC has Latin too)


def render(
    lines: list[str], *, size: int = 28, language: str = "en", font_path: str = "", dark: bool = False
) -> Image.Image:
    path = font_path or CJK_FONT
    face = ImageFont.truetype(path, size, index=FACE.get(language, 2) if path.endswith(".ttc") else 0)
    line_h = int(size * 1.8)
    width = max(int(face.getlength(line)) for line in lines) + 80
    image = Image.new("RGB", (width, line_h * len(lines) + 60), "#1e1e1e" if dark else "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 30 + i * line_h), line, fill="#e8e8e8" if dark else "black", font=face)
    return image


def photo(image: Image.Image, *, angle: float = 6.0, blur: float = 1.2, quality: int = 50, seed: int = 7) -> bytes:
    """Rotate (paper on a table), light it unevenly (dark corner), blur, add noise, JPEG."""
    rng = random.Random(seed)
    margin = 40
    canvas = Image.new("RGB", (image.width + 2 * margin, image.height + 2 * margin), (205, 200, 190))
    canvas.paste(image, (margin, margin))
    canvas = canvas.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=(190, 185, 175))
    pixels = np.asarray(canvas).astype(np.float32)
    h, w = pixels.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    light = 1.0 - 0.45 * (xs / w) * (ys / h) + 0.08 * np.sin(ys / h * 3.1)  # shadow towards one corner
    pixels = pixels * light[..., None]
    noise = np.random.default_rng(rng.randint(0, 10_000)).normal(0, 6, pixels.shape)
    pixels = np.clip(pixels * 0.85 + 20 + noise, 0, 255).astype(np.uint8)  # lower contrast, grey blacks
    out = Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(blur))
    buffer = io.BytesIO()
    out.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
