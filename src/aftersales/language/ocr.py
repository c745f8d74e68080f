"""Text in images and documents: screenshots of an order page, a photo of a label, a PDF invoice.

Two engines, each routed to what it measures best at (bench/ocr_voice.py):
- RapidOCR (PP-OCRv4 models shipped in its wheel) finds the text lines in any image (also rotated,
  unevenly lit photos) and reads Chinese; its recogniser knows Chinese and ASCII only.
- Tesseract (Debian's tesseract-ocr + tesseract-ocr-<lang>, run with OMP_THREAD_LIMIT=1) reads
  Japanese (jpn, not the Chinese model), Korean, Cyrillic, Arabic, Thai and the Latin-script
  languages with their accents and spaces.

Images: RapidOCR finds the lines; each line is cut out along its box (perspective-corrected, so
rotation and skew are undone), its contrast normalised (uneven light, light-on-dark themes) and
small text upscaled, and all lines are read by one Tesseract call. Per line the reading with the
better confidence is kept (Tesseract's when both agree but for spaces and accents). Scripts RapidOCR
cannot read (Japanese, Korean, Cyrillic...) are read by Tesseract alone, page and lines, and the
more confident reading wins. PDFs: the text layer of the first pages when there is one, else the
pages rendered by pypdfium2 and OCRed.

Every input is checked first: size in bytes, real type (magic bytes, not the name), pixel count
(decompression bombs are refused before decoding), and corrupt files give a ValidationFailed."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import threading
import unicodedata
import warnings
from dataclasses import dataclass, field
from typing import Any

import filetype
import numpy as np
from django.utils.translation import gettext
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
    "ja": "jpn",
    "ko": "kor",
    "ru": "rus",
    "uk": "ukr",
    "ar": "ara",
    "th": "tha",
    "el": "ell",
    "he": "heb",
    "zh": "chi_sim",
}
# Scripts RapidOCR's recogniser cannot read: Tesseract reads these whole.
TESSERACT_ONLY = frozenset({"ja", "ko", "ru", "uk", "ar", "th", "el", "he"})
MAX_LINE_REREADS = 60
LINE_HEIGHT = 48  # px: every line is scaled to this text height before Tesseract reads it
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef]")
_KANA_RE = re.compile(r"[\u3040-\u30ff]")
_HANGUL_RE = re.compile(r"[\uac00-\ud7af]")
# Tesseract's CJK models put a space between words (and often characters): none belongs there.
_CJK_GAP_RE = re.compile(
    r"(?<=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])[ \t]+(?=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])"
)

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
        raise ValidationFailed(gettext("the file is empty"), field=field_name)
    if len(data) > MAX_BYTES:
        raise ValidationFailed(
            gettext("the file is %(count)s bytes; the limit is %(max_bytes)s")
            % {"count": len(data), "max_bytes": MAX_BYTES},
            field=field_name,
        )
    kind = filetype.guess(data)
    mime = kind.mime if kind else "unknown"
    if mime not in OCR_TYPES:
        raise ValidationFailed(
            gettext("cannot read text from a file of type %(mime)s; accepted: PNG, JPEG, WebP, PDF") % {"mime": mime},
            field=field_name,
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
                    gettext("the image is %(width)sx%(height)s pixels; the limit is %(max_pixels)s pixels")
                    % {"width": width, "height": height, "max_pixels": MAX_PIXELS},
                    field=field_name,
                )
            image.load()
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationFailed(
            gettext("the image is too large to decode safely: %(exc)s") % {"exc": exc}, field=field_name
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValidationFailed(
            gettext("the image is corrupt or truncated: %(exc)s") % {"exc": exc}, field=field_name
        ) from exc
    return image.convert("RGB")


def rapid_engine() -> Any:
    global _rapid
    if _rapid is None:
        with _lock:
            if _rapid is None:
                from rapidocr_onnxruntime import RapidOCR

                # Screenshots are already sharp: cap the long side (the default upscales the short
                # side to 736 px, which makes detection several times slower for no gain).
                # Every line found is kept (text_score 0): a line in a script its recogniser
                # does not know (kana, Hangul) scores low but is still a line for Tesseract.
                _rapid = RapidOCR(det_limit_side_len=960, det_limit_type="max", text_score=0.0)
    return _rapid


MIN_LINE_SCORE = 0.5  # a line no engine reads with at least this confidence is dropped
TRUSTED_LATIN = 0.6  # Tesseract's line confidence from which its letters beat RapidOCR's
_DIGITS_RE = re.compile(r"\d")


def ocr_rapid(image: Image.Image, *, page: int = 0, min_score: float = MIN_LINE_SCORE) -> OcrResult:
    result, _ = rapid_engine()(np.asarray(image))
    blocks = [
        OcrBlock(str(text), [[float(x), float(y)] for x, y in box], float(score), page)
        for box, text, score in (result or [])
        if float(score) >= min_score
    ]
    return OcrResult("\n".join(b.text for b in blocks), "rapidocr", blocks)


def detect_lines(image: Image.Image, *, page: int = 0) -> list[OcrBlock]:
    """RapidOCR's line detection only (boxes, top to bottom), for scripts its recogniser cannot read."""
    result, _ = rapid_engine()(np.asarray(image), use_cls=False, use_rec=False)
    return [OcrBlock("", [[float(x), float(y)] for x, y in box], 0.0, page) for box in (result or [])]


def tesseract_available(language: str = "en") -> bool:
    if shutil.which("tesseract") is None:
        return False
    code = TESSERACT_LANGS.get(normalise(language), "eng")
    prefix = os.environ.get("TESSDATA_PREFIX")
    dirs = [prefix] if prefix else ["/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata"]
    return any(os.path.exists(os.path.join(d, f"{code}.traineddata")) for d in dirs)


def _tesseract_tsv(image: Image.Image, langs: str, psm: int, timeout: float) -> list[list[str]]:
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
        raise ValidationFailed(
            gettext("tesseract could not read the image: %(exc)s") % {"exc": exc}, field="file"
        ) from exc
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace")[:200]
        raise ValidationFailed(gettext("tesseract failed: %(value)s") % {"value": detail}, field="file")
    rows = []
    for row in done.stdout.decode("utf-8", errors="replace").splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) >= 12 and cols[0] == "5" and cols[11].strip():
            rows.append(cols)
    return rows


def _tesseract_langs(language: str) -> str:
    code = TESSERACT_LANGS.get(normalise(language), "eng")
    return code if code == "eng" else f"{code}+eng"


def _join_words(words: list[str]) -> str:
    return _CJK_GAP_RE.sub("", " ".join(words))


def ocr_tesseract(
    image: Image.Image, *, language: str = "en", page: int = 0, timeout: float = 60.0, psm: int = 3
) -> OcrResult:
    lines: dict[tuple[str, str, str], list[tuple[str, int, int, int, int, float]]] = {}
    for cols in _tesseract_tsv(image, _tesseract_langs(language), psm, timeout):
        left, top, width, height = (int(c) for c in cols[6:10])
        lines.setdefault((cols[2], cols[3], cols[4]), []).append(
            (cols[11], left, top, width, height, max(0.0, float(cols[10])) / 100)
        )
    blocks = []
    for words in lines.values():
        x0 = min(w[1] for w in words)
        y0 = min(w[2] for w in words)
        x1 = max(w[1] + w[3] for w in words)
        y1 = max(w[2] + w[4] for w in words)
        box = [[float(x0), float(y0)], [float(x1), float(y0)], [float(x1), float(y1)], [float(x0), float(y1)]]
        text = _join_words([w[0] for w in words])
        blocks.append(OcrBlock(text, box, sum(w[5] for w in words) / len(words), page))
    return OcrResult("\n".join(b.text for b in blocks), "tesseract", blocks)


def _has_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))


def ocr_image(image: Image.Image, *, language_hint: str = "", page: int = 0) -> OcrResult:
    """RapidOCR finds the lines (and reads Chinese); Tesseract, in the language of the text,
    rereads every line cut out along its box, straightened and contrast-normalised; per line the
    more confident reading is kept. For scripts RapidOCR cannot read, Tesseract's reading of the
    whole page competes with its reading of the lines, by confidence. Either engine is the other's
    fallback when it is missing or finds nothing."""
    hint = normalise(language_hint)
    if hint in TESSERACT_ONLY and tesseract_available(hint):
        return _tesseract_only(image, detect_lines(image, page=page), hint, page)
    rapid = ocr_rapid(image, page=page, min_score=0.0)
    language = hint if hint and tesseract_available(hint) else "en"
    if not tesseract_available(language):
        return _confident(rapid)
    if not rapid.blocks:
        whole = ocr_tesseract(image, language=language, page=page)
        return whole if whole.text.strip() else rapid
    if not hint and _has_cjk(rapid.text) and tesseract_available("ja"):
        # Chinese or Japanese? RapidOCR's Chinese model drops kana; Tesseract's Japanese model
        # reads them. Its reading of the lines decides, and is kept for Japanese.
        lines = reread_lines(image, rapid.blocks, "ja")
        if sum(len(_KANA_RE.findall(b.text)) for b in lines) >= 3:
            return _tesseract_only(image, rapid.blocks, "ja", page, lines=lines)
    else:
        lines = reread_lines(image, rapid.blocks, language)
    blocks = [_better(block, line) for block, line in zip(rapid.blocks, lines, strict=True)]
    return _confident(OcrResult("", "rapidocr+tesseract", blocks))


def _confident(result: OcrResult) -> OcrResult:
    blocks = [b for b in result.blocks if b.text.strip() and b.confidence >= MIN_LINE_SCORE]
    return OcrResult("\n".join(b.text for b in blocks), result.engine, blocks, result.pages)


def _tesseract_only(
    image: Image.Image, boxes: list[OcrBlock], language: str, page: int, *, lines: list[OcrBlock] | None = None
) -> OcrResult:
    """Tesseract alone, for a script RapidOCR cannot read: its reading of the detected lines
    (straightened, normalised) or of the whole page, whichever is more confident."""
    if lines is None:
        lines = reread_lines(image, boxes, language) if boxes else []
    by_lines = _confident(OcrResult("", "tesseract", lines))
    whole = _confident(ocr_tesseract(image, language=language, page=page))
    return whole if _score(whole) > _score(by_lines) else by_lines


def _score(result: OcrResult) -> float:
    """Confidence of a whole reading: per-line confidence weighted by its characters."""
    chars = sum(len(b.text) for b in result.blocks)
    if not chars:
        return 0.0
    return sum(b.confidence * len(b.text) for b in result.blocks) / chars


def _fold(text: str) -> str:
    """Text without spaces and accents, for comparing two readings of a line."""
    decomposed = unicodedata.normalize("NFKD", "".join(text.split()))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _better(rapid: OcrBlock, tess: OcrBlock) -> OcrBlock:
    """One line read by both engines: Tesseract's reading when it says the same but for spaces
    and accents (RapidOCR drops both), or reads the same digits with a fair confidence; RapidOCR's
    for Chinese; else the more confident one (a digit is never changed by a less confident engine)."""
    if not tess.text.strip():
        return rapid
    if _fold(tess.text) == _fold(rapid.text):
        return OcrBlock(tess.text, rapid.box, max(rapid.confidence, tess.confidence), rapid.page)
    if _has_cjk(rapid.text) and rapid.confidence >= MIN_LINE_SCORE:
        return rapid
    if tess.confidence >= TRUSTED_LATIN and _DIGITS_RE.findall(tess.text) == _DIGITS_RE.findall(rapid.text):
        # Same digits: the differences are letters, where Tesseract's language model knows the
        # accents (ä, ß, é) that RapidOCR's recogniser does not have at all.
        return OcrBlock(tess.text, rapid.box, tess.confidence, rapid.page)
    if tess.confidence >= rapid.confidence:
        return OcrBlock(tess.text, rapid.box, tess.confidence, rapid.page)
    return rapid


def rectify(image: Image.Image, box: list[list[float]]) -> Image.Image:
    """The line inside `box` cut out straight (perspective-corrected), padded, as grey scale with
    normalised contrast (dark text on light; light-on-dark inverted), scaled to LINE_HEIGHT."""
    import cv2

    quad = np.array(box, dtype=np.float32)
    side = [float(np.linalg.norm(quad[(i + 1) % 4] - quad[i])) for i in range(4)]  # top, right, bottom, left
    width: int = max(round(max(side[0], side[2])), 4)
    height: int = max(round(max(side[1], side[3])), 4)
    pad = max(3, int(height * 0.25))
    target = np.array(
        [[pad, pad], [pad + width, pad], [pad + width, pad + height], [pad, pad + height]], dtype=np.float32
    )
    matrix = cv2.getPerspectiveTransform(quad, target)
    grey = np.asarray(image.convert("L"))
    line = cv2.warpPerspective(
        grey, matrix, (width + 2 * pad, height + 2 * pad), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    low, high = np.percentile(line, (2, 98))
    if high - low > 10:
        line = np.clip((line.astype(np.float32) - low) * (255.0 / (high - low)), 0, 255).astype(np.uint8)
    if np.median(line) < 128:  # light text on a dark background
        line = 255 - line
    scale = LINE_HEIGHT / height
    if abs(scale - 1) > 0.1:
        line = cv2.resize(
            line,
            (max(1, int(line.shape[1] * scale)), max(1, int(line.shape[0] * scale))),
            interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA,
        )
    return Image.fromarray(line)


def reread_lines(image: Image.Image, boxes: list[OcrBlock], language: str, *, gap: int = 24) -> list[OcrBlock]:
    """Tesseract's reading of each box (at most MAX_LINE_REREADS), in one call: the rectified
    lines are stacked on one page and the words found are given back to their line by height."""
    crops = [rectify(image, b.box) for b in boxes[:MAX_LINE_REREADS]]
    empty = [OcrBlock("", b.box, 0.0, b.page) for b in boxes]
    if not crops:
        return empty
    width = max(c.width for c in crops) + 2 * gap
    height = sum(c.height for c in crops) + gap * (len(crops) + 1)
    sheet = Image.new("L", (width, height), 255)
    spans = []
    y = gap
    for crop in crops:
        sheet.paste(crop, (gap, y))
        spans.append((y, y + crop.height))
        y += crop.height + gap
    words: list[list[tuple[int, str, float]]] = [[] for _ in crops]
    for cols in _tesseract_tsv(sheet, _tesseract_langs(language), 6, 60.0):
        left, top, _w, h = (int(c) for c in cols[6:10])
        middle = top + h / 2
        for index, (y0, y1) in enumerate(spans):
            if y0 - gap / 2 <= middle < y1 + gap / 2:
                words[index].append((left, cols[11], max(0.0, float(cols[10])) / 100))
                break
    result = list(empty)
    for index, found in enumerate(words):
        if found:
            found.sort()
            text = _join_words([w[1] for w in found])
            confidence = sum(w[2] for w in found) / len(found)
            result[index] = OcrBlock(text, boxes[index].box, confidence, boxes[index].page)
    return result


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
        raise ValidationFailed(
            gettext("the PDF is corrupt or encrypted: %(exc)s") % {"exc": exc}, field=field_name
        ) from exc
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
