"""Bytes to text: the encodings contact files come in.

UTF-8 with or without a byte-order mark, UTF-16 with a mark (as Outlook and Excel write
"Unicode" CSV) or without one (told by its zero bytes), and Windows-1252 for the rest
(older Outlook and Excel exports on Western European Windows). A vCard file is decoded
line by line, since vCard 2.1 lets each property name its own CHARSET.
"""

from __future__ import annotations

import codecs
import re

_CHARSET = re.compile(rb";CHARSET=([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_LINE_END = re.compile(rb"\r\n|\r|\n")
_UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def utf16_encoding(data: bytes) -> str | None:
    """`utf-16` (with its mark), `utf-16-le` or `utf-16-be` when the bytes are UTF-16."""
    for bom, _ in _UTF16_BOMS:
        if data.startswith(bom):
            return "utf-16"
    sample = data[:4000]
    if len(sample) >= 4 and sample.count(0) * 3 > len(sample):  # ASCII in UTF-16: half zeros
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        return "utf-16-be" if even > odd else "utf-16-le"
    return None


def single_byte(data: bytes) -> str:
    """Windows-1252, or Latin-1 for the five bytes Windows-1252 leaves undefined."""
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of a whole file and the name of the encoding it was read in.

    Never fails: bytes that are neither UTF-8 nor UTF-16 are read as Windows-1252.
    A byte-order mark is removed.
    """
    utf16 = utf16_encoding(data)
    if utf16 is not None:
        return data.decode(utf16, errors="replace").removeprefix("\ufeff"), utf16
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return single_byte(data), "cp1252"


def decode_lines(data: bytes) -> tuple[list[str], str]:
    """A vCard file's physical lines (without line ends) and the encoding read.

    UTF-16 and UTF-8 files are decoded whole. Otherwise each line is UTF-8 when it can
    be, else in its own `CHARSET` parameter, else Windows-1252: vCard 2.1 files mix them
    (the encoding is then given as "mixed").
    """
    utf16 = utf16_encoding(data)
    if utf16 is not None or data.startswith(codecs.BOM_UTF8):
        text, encoding = decode_text(data)
        return re.split(r"\r\n|\r|\n", text), encoding
    try:
        return re.split(r"\r\n|\r|\n", data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    lines = []
    for raw in _LINE_END.split(data):
        try:
            lines.append(raw.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            pass
        charset = _CHARSET.search(raw.split(b":", 1)[0])
        try:
            lines.append(raw.decode(charset[1].decode("ascii")) if charset else single_byte(raw))
        except (LookupError, UnicodeDecodeError):
            lines.append(single_byte(raw))
    return lines, "mixed"
