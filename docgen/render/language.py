"""Languages: a record's ``client.preferred_language`` (free text such as "Spanish", "English and
Spanish" or "Vietnamese (reads English; sessions in Vietnamese)") as BCP 47 tags, and whether a
piece of the client's own words is written in one of them.

docgen writes its documents in English (en-US, the document's language). The client's own words
(quoted as said) may be in the client's language: :func:`written_in` tells, from the script a
language is written in or, for languages in the Latin script, from its commonest words outnumbering
English ones. A text it cannot tell stays in the document's language.
"""
from __future__ import annotations

import re
import unicodedata

DEFAULT = "en-US"

#: Language names as records spell them -> BCP 47.
TAGS = {
    "english": "en-US", "spanish": "es", "español": "es", "chinese": "zh", "mandarin": "zh", "cantonese": "yue",
    "vietnamese": "vi", "tagalog": "tl", "filipino": "fil", "korean": "ko", "russian": "ru", "ukrainian": "uk",
    "arabic": "ar", "haitian creole": "ht", "haitian": "ht", "french": "fr", "portuguese": "pt", "polish": "pl",
    "japanese": "ja", "italian": "it", "german": "de", "hindi": "hi", "urdu": "ur", "greek": "el", "somali": "so",
    "hmong": "hmn", "persian": "fa", "farsi": "fa", "dari": "prs", "pashto": "ps", "bengali": "bn", "punjabi": "pa",
    "gujarati": "gu", "amharic": "am", "armenian": "hy", "hebrew": "he", "khmer": "km", "lao": "lo", "thai": "th",
    "turkish": "tr", "swahili": "sw", "nepali": "ne", "burmese": "my", "tigrinya": "ti",
}
_NAMES = re.compile(r"\b(" + "|".join(sorted(map(re.escape, TAGS), key=len, reverse=True)) + r")\b", re.IGNORECASE)

#: Languages written in a script of their own: the Unicode character name's first word.
SCRIPTS = {
    "el": "GREEK", "ru": "CYRILLIC", "uk": "CYRILLIC", "ar": "ARABIC", "fa": "ARABIC", "ur": "ARABIC",
    "prs": "ARABIC", "ps": "ARABIC", "he": "HEBREW", "hi": "DEVANAGARI", "ne": "DEVANAGARI", "bn": "BENGALI",
    "pa": "GURMUKHI", "gu": "GUJARATI", "am": "ETHIOPIC", "ti": "ETHIOPIC", "hy": "ARMENIAN", "km": "KHMER",
    "lo": "LAO", "th": "THAI", "my": "MYANMAR", "ko": "HANGUL", "zh": "CJK", "yue": "CJK", "ja": "HIRAGANA",
}

#: The commonest words of languages in the Latin script (and of English, to compare).
WORDS = {
    "en": "the and to of a i in is it you that my me not be for with on have this was he she we they want can "
          "do at but all so off get feel like",
    "es": "el la los las de del y que en un una es no me mi mis por para con se lo le su al yo quiero estoy "
          "puedo ser estar tengo muy más pero como cuando ya",
    "fr": "le la les de des et que en un une est ne pas je me mon ma mes pour avec se il elle nous vous sur "
          "dans au aux suis veux",
    "pt": "o a os as de do da e que em um uma é não me meu minha por para com se eu quero estou muito mais",
    "it": "il lo la i gli le di del e che in un una è non mi mio mia per con si io voglio sono molto più",
    "de": "der die das und ist nicht ich mich mein meine zu mit ein eine den dem auf für sie wir bin will",
    "vi": "tôi và là không có của cho với một những được người này muốn con em anh chị đi ngủ",
    "tl": "ang ng mga sa at ako ko na hindi ay siya niya ito gusto akong",
    "ht": "mwen ou li nou yo pa ak nan se pou sa m gen vle",
    "pl": "i w nie się na że z do to jest jak ale mnie mi jestem chcę",
}
_WORDS = {lang: frozenset(words.split()) for lang, words in WORDS.items()}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def tags(preferred: str | None) -> tuple[str, ...]:
    """The BCP 47 tags of the languages named in ``preferred``, in the order named, each once."""
    found = (TAGS[m.group(1).lower()] for m in _NAMES.finditer(preferred or ""))
    return tuple(dict.fromkeys(found))


def _script_share(text: str, script: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    inside = sum(1 for c in letters if unicodedata.name(c, "").startswith(script) or
                 (script == "HIRAGANA" and unicodedata.name(c, "").startswith(("KATAKANA", "CJK"))))
    return inside / len(letters)


def written_in(text: str, languages: tuple[str, ...], default: str = DEFAULT) -> str:
    """The tag among ``languages`` that ``text`` is written in, else ``default``: mostly in the
    language's script, or more of its commonest words than English ones."""
    words = [w.lower() for w in _WORD.findall(text)]
    english = sum(1 for w in words if w in _WORDS["en"])
    best, score = default, 0
    for lang in languages:
        primary = lang.split("-")[0]
        if primary == default.split("-", maxsplit=1)[0]:
            continue
        script = SCRIPTS.get(primary)
        if script is not None:
            if _script_share(text, script) > 0.5:
                return lang
            continue
        common = _WORDS.get(primary)
        if common is None:
            continue
        hits = sum(1 for w in words if w in common)
        if hits > english and hits > score:
            best, score = lang, hits
    return best
