"""Bytes → text for input documents: gzip, binary detection, encoding detection and repair."""

from __future__ import annotations

import codecs
import re
import zlib

from briefings.errors import BadInput

MAX_DECOMPRESSED = 200 * 1024 * 1024
_MAGIC = {
    b"%PDF": "PDF document",
    b"PK\x03\x04": "ZIP archive",
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"\x7fELF": "executable",
    b"BZh": "bzip2 archive",
    b"\xfd7zXZ": "xz archive",
    b"7z\xbc\xaf": "7z archive",
    b"Rar!": "RAR archive",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff]")
_SAMPLE = 65536


def gunzip(data: bytes) -> bytes:
    """Decompress gzip data, refusing corrupt streams and decompression bombs.

    Args:
        data: bytes starting with the gzip magic number.

    Raises:
        BadInput: corrupt/truncated archive, or more than ``MAX_DECOMPRESSED`` bytes inside.
    """
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(data, MAX_DECOMPRESSED + 1)
    except zlib.error as exc:
        raise BadInput(f"corrupt gzip file: {exc}") from None
    if len(out) > MAX_DECOMPRESSED:
        raise BadInput(f"gzip file expands to more than {MAX_DECOMPRESSED // 2**20} MB")
    if not d.eof:
        raise BadInput("truncated gzip file")
    return out


def _sample(text: str) -> str:
    if len(text) <= 3 * _SAMPLE:
        return text
    mid = len(text) // 2
    return text[:_SAMPLE] + text[mid : mid + _SAMPLE] + text[-_SAMPLE:]


def _garbage_ratio(text: str) -> float:
    sample = _sample(text)
    return len(_CONTROL.findall(sample)) / max(1, len(sample))


_NON_ASCII_LETTER = re.compile(r"[^\W\d_a-zA-Z]")
_ASCII_LETTER = re.compile(r"[a-zA-Z]")


def _legacy_decode(data: bytes) -> str:
    """Decode non-UTF-8 bytes: cp1252 (latin-1 for its undefined bytes) for Western text,
    else the charset detected by charset-normalizer (cp1251, Shift-JIS, GBK, ...)."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    sample = _sample(text)
    foreign = len(_NON_ASCII_LETTER.findall(sample))
    if foreign <= 0.3 * (foreign + len(_ASCII_LETTER.findall(sample))):
        return text  # mostly ASCII letters with some accents: Western European text
    import charset_normalizer  # only for the rare legacy non-Western file

    best = charset_normalizer.from_bytes(data[: 3 * _SAMPLE]).best()
    if best is None or best.encoding in {"cp1252", "latin_1", "ascii", "utf_8"}:
        return text
    return data.decode(best.encoding, errors="replace")


def decode(data: bytes) -> str:
    """Decode document bytes to text.

    Tries a BOM, then strict UTF-8, then cp1252 (latin-1 for its five undefined bytes),
    or the encoding charset-normalizer detects when cp1252 gives mostly non-Latin letters;
    the caller repairs mojibake with ftfy (:func:`briefings.text.normalise.fix_text`).

    Args:
        data: raw (already decompressed) bytes, non-empty.

    Raises:
        BadInput: binary data (known magic, NUL bytes) or text that decodes to garbage.
    """
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise BadInput(f"binary file ({what}), not a text or HTML document")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise BadInput(f"invalid {codec.upper()} text at byte {exc.start}") from None
            break
    else:
        if b"\x00" in data:
            raise BadInput("binary file (contains NUL bytes)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _legacy_decode(data)
    if _garbage_ratio(text) > 0.02:
        raise BadInput("binary or undecodable file (too many control characters)")
    return text
