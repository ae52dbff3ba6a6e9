"""Covers: the image a book is sold by (ebook stores refuse a book without one).

A book's YAML may name one (``cover: path``, or a language's own under ``translations: <lang>:``);
:func:`import_covers` checks it when the manuscript is extracted and keeps a copy beside the book,
so a missing, unreadable or huge image is refused before anything is written. Without one,
:func:`cover_image` sets a typographic cover from the translated title, subtitle, author and
publisher with the same typesetting engine as the print edition (WeasyPrint: HarfBuzz shaping,
the bidirectional algorithm, font fallback for a Latin name in an Urdu line), in the book's own
fonts (Naskh for Arabic, Nastaliq for Urdu), and rasterises it with PDFium. Both the EPUB (as its
``cover-image``) and the PDF (as its first page) use the one image.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import EpubError, ProjectError

# Stores ask for about 1600 × 2560 (a 1:1.6 portrait); that is the generated cover's size.
COVER_SIZE = (1600, 2560)
MAX_COVER_BYTES = 30 * 1024 * 1024
MAX_COVER_PIXELS = 40_000_000  # a 6300 × 6300 image; a larger one is an error, not a slow publish
MIN_COVER_SIDE = 300
MEDIA_TYPES = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png")}


@dataclass(frozen=True)
class Cover:
    data: bytes
    media_type: str
    file_name: str  # inside the book: images/cover.jpg


def check_cover(path: Path, *, named_in: Path | None = None) -> tuple[bytes, str, str]:
    """The cover image at ``path`` as (bytes, media type, suffix), or a clear
    error naming it (and the YAML file that named it): missing, unreadable, not JPEG or PNG,
    too large or too small. A CMYK or other image that readers cannot show is converted to RGB."""
    from PIL import Image, UnidentifiedImageError

    where = f" (named by {named_in})" if named_in else ""

    def refuse(why: str):
        return ProjectError(f"cover image {why}{where}", path=path)

    if not path.is_file():
        raise refuse("does not exist" if not path.exists() else "is not a file")
    size = path.stat().st_size
    if size > MAX_COVER_BYTES:
        raise refuse(f"is {size / 2**20:.0f} MiB; a cover must be under {MAX_COVER_BYTES // 2**20} MiB (stores want about 1600 × 2560 pixels)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise refuse(f"cannot be read ({exc.strerror})") from exc
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
            if width * height > MAX_COVER_PIXELS:
                raise refuse(f"is {width} × {height} pixels; a cover must be under {MAX_COVER_PIXELS // 1_000_000} megapixels (stores want about 1600 × 2560)")
            if kind not in MEDIA_TYPES:
                raise refuse(f"is {kind or 'an unknown format'}; a cover must be JPEG or PNG")
            # A truncated or corrupt file fails here, not in a reader (WeasyPrint, once imported,
            # tells Pillow to accept truncated images: the end markers are checked by hand).
            if (kind == "JPEG" and not data.rstrip(b"\0").endswith(b"\xff\xd9")) or (kind == "PNG" and b"IEND" not in data[-64:]):
                raise refuse("is not a readable image (the file is cut short)")
            image.load()
            if image.mode not in ("RGB", "L", "RGBA", "LA", "P"):
                buffer = io.BytesIO()
                image.convert("RGB").save(buffer, "JPEG", quality=92)
                data, kind = buffer.getvalue(), "JPEG"
    except ProjectError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise refuse(f"is not a readable image ({exc})") from exc
    if min(width, height) < MIN_COVER_SIDE:
        raise refuse(f"is only {width} × {height} pixels; a cover needs at least {MIN_COVER_SIDE} on each side (stores want about 1600 × 2560)")
    media_type, suffix = MEDIA_TYPES[kind]
    return data, media_type, suffix


def import_covers(metadata: dict, yaml_path: Path | None, book_dir_files: dict[str, bytes]) -> dict:
    """Check the covers ``metadata`` names (paths relative to the YAML file's folder) and add their
    bytes to ``book_dir_files`` (name in the book folder → bytes); returns the metadata with each
    ``cover`` replaced by that name. Raises before anything is written."""
    base = yaml_path.parent if yaml_path else Path(".")
    metadata = dict(metadata)

    def take(value, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ProjectError(f"{key}: must be the path of a JPEG or PNG image", path=yaml_path, where=key)
        path = Path(value.strip()).expanduser()
        data, _, suffix = check_cover(path if path.is_absolute() else base / path, named_in=yaml_path)
        lang = key.split(".")[1] + "-" if key.startswith("translations.") else ""
        # Named by content: a new cover under the same file name is a new file in the book's folder.
        name = f"images/cover-{lang}{hashlib.sha256(data).hexdigest()[:12]}{suffix}"
        book_dir_files[name] = data
        return name

    if metadata.get("cover") is not None:
        metadata["cover"] = take(metadata["cover"], "cover")
    translations = metadata.get("translations")
    if isinstance(translations, dict):
        translations = {lang: dict(local) if isinstance(local, dict) else local for lang, local in translations.items()}
        for lang, local in translations.items():
            if isinstance(local, dict) and local.get("cover") is not None:
                if not (isinstance(lang, str) and re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?", lang)):
                    raise ProjectError(f"translations: {lang!r} is not a language code (ar, en, fr, ur)", path=yaml_path, where="translations")
                local["cover"] = take(local["cover"], f"translations.{lang}.cover")
        metadata["translations"] = translations
    return metadata


def cover_image(edition) -> Cover:
    """The edition's cover: the image its YAML named (checked again: the copy may have been
    damaged since), or a typographic one set from its metadata."""
    name = edition.metadata.get("cover")
    if name:
        path = edition.image_folder / name
        try:
            data, media_type, suffix = check_cover(path)
        except ProjectError as exc:
            raise EpubError(f"{exc.detail}; extract the book again to take the cover from its YAML", path=path) from exc
        return Cover(data, media_type, f"images/cover{suffix}")
    return Cover(typographic_cover(edition), "image/jpeg", "images/cover.jpg")


def _cover_html(edition, size: tuple[int, int]) -> str:
    from .languages import language
    from .pdf import font_faces, font_stack

    meta, lang = edition.metadata, edition.lang
    direction = "rtl" if language(lang).rtl else "ltr"
    esc = lambda s: html.escape(s or "", quote=False)  # noqa: E731
    lines = [f'<h1>{esc(meta["title"])}</h1>']
    if meta.get("subtitle"):
        lines.append(f'<p class="subtitle">{esc(meta["subtitle"])}</p>')
    draft = f'<p class="draft">{esc(meta["words"]["draft_mark"])}</p>' if edition.draft else ""
    # Urdu's Nastaliq climbs and falls far from its baseline: more room between its lines.
    leading = 2.0 if lang == "ur" else 1.45
    width, height = size
    y = lambda fraction: round(height * fraction)  # noqa: E731  (positions follow the height, sizes the width)
    css = f"""
    {font_faces(lang, naskh=True)}
    @page {{ size: {width}px {height}px; margin: 0; }}
    html, body {{ margin: 0; }}
    body {{ width: {width}px; height: {height}px; background: #1d2b36; color: #f3ede1;
            font-family: {font_stack(lang)}; text-align: center; position: relative; }}
    .frame {{ position: absolute; inset: 70px; border: 5px solid #c8a44d; }}
    .inner {{ position: absolute; inset: 26px; border: 2px solid #c8a44d; }}
    .top {{ position: absolute; top: {y(0.165)}px; left: 150px; right: 150px; }}
    h1 {{ font-size: {150 if lang != 'ur' else 128}px; line-height: {leading}; font-weight: bold; margin: 0 0 80px; }}
    .subtitle {{ font-size: 66px; line-height: {leading}; margin: 0; color: #e2d6bd; }}
    .rule {{ position: absolute; top: {y(0.60)}px; left: 600px; right: 600px; border-top: 4px solid #c8a44d; }}
    .author {{ position: absolute; top: {y(0.645)}px; left: 150px; right: 150px; font-size: 92px; line-height: {leading}; margin: 0; }}
    .publisher {{ position: absolute; bottom: {y(0.09)}px; left: 150px; right: 150px; font-size: 54px; line-height: {leading}; margin: 0; color: #e2d6bd; }}
    .draft {{ position: absolute; top: {y(0.48)}px; left: 0; right: 0; background: #a3211c; color: #fff; font-size: 80px;
              line-height: 1.6; font-weight: bold; margin: 0; }}
    """
    return (f'<!DOCTYPE html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8"><style>{css}</style></head><body>'
            f'<div class="frame"><div class="inner"></div></div><div class="top">{"".join(lines)}</div>{draft}<div class="rule"></div>'
            f'<p class="author">{esc(meta.get("author"))}</p><p class="publisher">{esc(meta.get("publisher"))}</p></body></html>')


def typographic_cover(edition, size: tuple[int, int] = COVER_SIZE) -> bytes:
    """A JPEG cover of ``size`` pixels set from the edition's translated title, subtitle, author and publisher."""
    import pypdfium2
    from weasyprint import HTML

    pdf = HTML(string=_cover_html(edition, size), base_url=str(edition.image_folder)).write_pdf()
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        scale = size[0] / page.get_width()
        image = page.render(scale=scale).to_pil().convert("RGB")
    finally:
        document.close()
    if image.size != size:
        image = image.resize(size)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, optimize=True)
    return buffer.getvalue()


__all__ = ["COVER_SIZE", "Cover", "check_cover", "cover_image", "import_covers", "typographic_cover"]
