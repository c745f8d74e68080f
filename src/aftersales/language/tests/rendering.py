"""Test inputs made on the spot: screenshots rendered with PIL (CJK fonts from Debian's
fonts-noto-cjk), speech synthesised with espeak-ng and encoded with ffmpeg."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def font(size: int = 28, index: int = 2) -> ImageFont.FreeTypeFont:
    # In NotoSansCJK-Regular.ttc face 2 is "Noto Sans CJK SC" (Simplified Chinese); it has Latin too.
    return ImageFont.truetype(CJK_FONT, size, index=index)


def screenshot(lines: list[str], *, size: int = 28, width: int | None = None, fmt: str = "PNG") -> bytes:
    face = font(size)
    line_h = int(size * 1.8)
    w = width or max(int(face.getlength(line)) for line in lines) + 80
    image = Image.new("RGB", (w, line_h * len(lines) + 60), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 30 + i * line_h), line, fill="black", font=face)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def pdf_of(image_bytes: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(image_bytes)).convert("RGB").save(buffer, format="PDF", resolution=100)
    return buffer.getvalue()


def speech(text: str, *, fmt: str = "ogg", voice: str = "en-us", speed: int = 140) -> bytes:
    """espeak-ng -> wav -> (ffmpeg) ogg/opus, mp3, m4a or wav."""
    espeak = shutil.which("espeak-ng") or "espeak-ng"
    ffmpeg = shutil.which("ffmpeg") or "ffmpeg"
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run([espeak, "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True)
        if fmt == "wav":
            return wav.read_bytes()
        out = Path(tmp) / f"speech.{fmt}"
        codec = {
            "ogg": ["-c:a", "libopus", "-b:a", "24k"],
            "mp3": ["-c:a", "libmp3lame", "-b:a", "48k"],
            "m4a": ["-c:a", "aac", "-b:a", "48k"],
        }[fmt]
        subprocess.run([ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", str(wav), *codec, str(out)], check=True)
        return out.read_bytes()
