"""The one guess of a prompt's language from its script, shared by every package (ISO 639-1 codes)."""

from __future__ import annotations


def guess_language(text: str) -> str:
    """Kana → ja, Hangul → ko, Han (CJK ideographs, extensions and compatibility forms) → zh, Cyrillic → ru,
    Arabic → ar, otherwise en. Kana or Hangul anywhere wins over Han, so Japanese with kanji stays ja."""
    for ch in text:
        o = ord(ch)
        if 0x3040 <= o <= 0x30FF:
            return "ja"
        if 0xAC00 <= o <= 0xD7AF:
            return "ko"
    for ch in text:
        o = ord(ch)
        if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
            return "zh"
        if 0x0400 <= o <= 0x04FF:
            return "ru"
        if 0x0600 <= o <= 0x06FF:
            return "ar"
    return "en"
