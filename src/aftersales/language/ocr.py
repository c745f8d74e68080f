"""Text in images and documents: screenshots of an order page, a photo of a label, a PDF invoice.

RapidOCR (PP-OCRv4 models shipped in its wheel) reads Chinese and English and keeps the boxes;
Tesseract (Debian's tesseract-ocr + tesseract-ocr-<lang>, run with OMP_THREAD_LIMIT=1) reads
the other Latin-script languages, and is the fallback when RapidOCR finds nothing. PDFs: the text
layer of the first pages when there is one, else the pages rendered by pypdfium2 and OCRed.

Every input is checked first: size in bytes, real type (magic bytes, not the name), pixel count
(decompression bombs are refused before decoding), and corrupt files give a ValidationFailed."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

import filetype
from PIL import Image

from aftersales.core.errors import ValidationFailed

from .languages import normalise

MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 30_000_000  # about 6000 x 5000
MAX_PDF_PAGES = 3
PDF_RENDER_SCALE = 2.0
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
PDF_TYPE = "application/pdf"
OCR_TYPES = IMAGE_TYPES | {PDF_TYPE}
TESSERACT_LANGS = {
    "en": "eng",
    "de": "deu",
    "fr": "fra",
    "es": "spa",
    "pt": "por",
    "it": "ita",
    "nl": "nld",
    "pl": "pol",
    "tr": "tur",
    "id": "ind",
    "vi": "vie",
}
RAPID_LANGS = frozenset({"zh", "ja", "ko", "en", ""})
MAX_LINE_REREADS = 40
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # PIL refuses (DecompressionBombError) beyond twice this

_lock = threading.Lock()
_rapid: Any = None


@dataclass(frozen=True)
class OcrBlock:
    text: str
    box: list[list[float]]  # four [x, y] corners, in the page's pixels
    confidence: float
    page: int = 0

    def as_json(self) -> dict:
        return {"text": self.text, "box": self.box, "confidence": round(self.confidence, 3), "page": self.page}


@dataclass(frozen=True)
class OcrResult:
    text: str
    engine: str
    blocks: list[OcrBlock] = field(default_factory=list)
    pages: int = 1


def sniff(data: bytes, *, field_name: str = "file") -> str:
    if not data:
        raise ValidationFailed("the file is empty", field=field_name)
    if len(data) > MAX_BYTES:
        raise ValidationFailed(f"the file is {len(data)} bytes; the limit is {MAX_BYTES}", field=field_name)
    kind = filetype.guess(data)
    mime = kind.mime if kind else "unknown"
    if mime not in OCR_TYPES:
        raise ValidationFailed(
            f"cannot read text from a file of type {mime}; accepted: PNG, JPEG, WebP, PDF", field=field_name
        )
    return mime


def load_image(data: bytes, *, field_name: str = "file") -> Image.Image:
    """Decode an image after checking its declared size, converted to RGB."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ValidationFailed(
                    f"the image is {width}x{height} pixels; the limit is {MAX_PIXELS} pixels", field=field_name
                )
            image.load()
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationFailed(f"the image is too large to decode safely: {exc}", field=field_name) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValidationFailed(f"the image is corrupt or truncated: {exc}", field=field_name) from exc
    return image.convert("RGB")


def rapid_engine() -> Any:
    global _rapid
    if _rapid is None:
        with _lock:
            if _rapid is None:
                from rapidocr_onnxruntime import RapidOCR

                # Screenshots are already sharp: cap the long side (the default upscales the short
                # side to 736 px, which makes detection several times slower for no gain).
                _rapid = RapidOCR(det_limit_side_len=960, det_limit_type="max")
    return _rapid


def ocr_rapid(image: Image.Image, *, page: int = 0) -> OcrResult:
    result, _ = rapid_engine()(image)
    blocks = [
        OcrBlock(str(text), [[float(x), float(y)] for x, y in box], float(score), page)
        for box, text, score in (result or [])
    ]
    return OcrResult("\n".join(b.text for b in blocks), "rapidocr", blocks)


def tesseract_available(language: str = "en") -> bool:
    if shutil.which("tesseract") is None:
        return False
    code = TESSERACT_LANGS.get(normalise(language), "eng")
    prefix = os.environ.get("TESSDATA_PREFIX")
    dirs = [prefix] if prefix else ["/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata"]
    return any(os.path.exists(os.path.join(d, f"{code}.traineddata")) for d in dirs)


def ocr_tesseract(
    image: Image.Image, *, language: str = "en", page: int = 0, timeout: float = 60.0, psm: int = 3
) -> OcrResult:
    code = TESSERACT_LANGS.get(normalise(language), "eng")
    langs = code if code == "eng" else f"{code}+eng"
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv found on PATH, no shell
            [shutil.which("tesseract") or "tesseract", "stdin", "stdout", "-l", langs, "--psm", str(psm), "tsv"],
            input=buffer.getvalue(),
            capture_output=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        raise ValidationFailed(f"tesseract could not read the image: {exc}", field="file") from exc
    if done.returncode != 0:
        raise ValidationFailed(f"tesseract failed: {done.stderr.decode(errors='replace')[:200]}", field="file")
    lines: dict[tuple[str, str, str], list[tuple[str, int, int, int, int, float]]] = {}
    for row in done.stdout.decode("utf-8", errors="replace").splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        left, top, width, height = (int(c) for c in cols[6:10])
        lines.setdefault((cols[2], cols[3], cols[4]), []).append(
            (cols[11], left, top, width, height, float(cols[10]) / 100)
        )
    blocks = []
    for words in lines.values():
        x0 = min(w[1] for w in words)
        y0 = min(w[2] for w in words)
        x1 = max(w[1] + w[3] for w in words)
        y1 = max(w[2] + w[4] for w in words)
        box = [[float(x0), float(y0)], [float(x1), float(y0)], [float(x1), float(y1)], [float(x0), float(y1)]]
        blocks.append(OcrBlock(" ".join(w[0] for w in words), box, sum(w[5] for w in words) / len(words), page))
    return OcrResult("\n".join(b.text for b in blocks), "tesseract", blocks)


def _has_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))


def ocr_image(image: Image.Image, *, language_hint: str = "", page: int = 0) -> OcrResult:
    """RapidOCR finds the lines and reads Chinese; Latin-script text goes to Tesseract, which keeps
    the spaces between words and knows the accents (RapidOCR's Chinese model drops both): the whole
    image when RapidOCR found no CJK at all, else each Latin-only line's box. Either engine is the
    fallback of the other when it is missing or finds nothing."""
    hint = normalise(language_hint)
    tess_lang = hint if hint in TESSERACT_LANGS and tesseract_available(hint) else "en"
    has_tesseract = tesseract_available(tess_lang)
    if hint not in RAPID_LANGS and hint in TESSERACT_LANGS and has_tesseract:
        first = ocr_tesseract(image, language=tess_lang, page=page)
        if first.text.strip():
            return first
    rapid = ocr_rapid(image, page=page)
    if not has_tesseract:
        return rapid
    if not _has_cjk(rapid.text):
        latin = ocr_tesseract(image, language=tess_lang, page=page)
        return latin if latin.text.strip() else rapid
    blocks = []
    reread = 0
    for block in rapid.blocks:
        if not _has_cjk(block.text) and reread < MAX_LINE_REREADS:
            reread += 1
            text = _reread_line(image, block.box, tess_lang)
            if text:
                block = OcrBlock(text, block.box, block.confidence, block.page)
        blocks.append(block)
    engine = "rapidocr+tesseract" if reread else "rapidocr"
    return OcrResult("\n".join(b.text for b in blocks), engine, blocks)


def _reread_line(image: Image.Image, box: list[list[float]], language: str) -> str:
    xs = [p[0] for p in box]
    ys = [p[1] for p in box]
    pad = max(4, int((max(ys) - min(ys)) * 0.3))
    crop = image.crop(
        (
            max(0, int(min(xs)) - pad),
            max(0, int(min(ys)) - pad),
            min(image.width, int(max(xs)) + pad),
            min(image.height, int(max(ys)) + pad),
        )
    )
    return ocr_tesseract(crop, language=language, psm=7).text.strip()


def read_document(data: bytes, *, language_hint: str = "", field_name: str = "file") -> OcrResult:
    """Read the text of an image or of the first pages of a PDF."""
    mime = sniff(data, field_name=field_name)
    if mime != PDF_TYPE:
        return ocr_image(load_image(data, field_name=field_name), language_hint=language_hint)
    return _read_pdf(data, language_hint=language_hint, field_name=field_name)


def _read_pdf(data: bytes, *, language_hint: str, field_name: str) -> OcrResult:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ValidationFailed(f"the PDF is corrupt or encrypted: {exc}", field=field_name) from exc
    texts: list[str] = []
    blocks: list[OcrBlock] = []
    engines: set[str] = set()
    try:
        count = min(len(document), MAX_PDF_PAGES)
        for index in range(count):
            page = document[index]
            layer = page.get_textpage().get_text_bounded().strip()
            if layer:
                texts.append(layer)
                engines.add("pdf_text")
                continue
            width, height = page.get_size()
            scale = min(PDF_RENDER_SCALE, (MAX_PIXELS / max(width * height, 1)) ** 0.5)
            image = page.render(scale=scale).to_pil().convert("RGB")
            result = ocr_image(image, language_hint=language_hint, page=index)
            texts.append(result.text)
            blocks.extend(result.blocks)
            engines.add(result.engine)
    finally:
        document.close()
    return OcrResult("\n\n".join(t for t in texts if t), "+".join(sorted(engines)) or "none", blocks, count)
