"""A challenge's IP terms in the reader's language: the default terms, written in the three languages, and
the text a sponsor wrote, in the one language they wrote it in.

Rules:
- The default terms exist in French, English and Arabic with the same meaning (DEFAULT_IP_TERMS). A
  version of the terms that is the default one, in any of the three languages, keeps all three: `ip_terms`
  in the language of who wrote the challenge, `translations` the two others.
- Terms a sponsor wrote themselves keep one text, with the language they wrote it in (the language of the
  page or of the API request): no one translates a legal text on their behalf.
- A reader is shown the terms in their language when the version has them, else in the language they were
  written in, saying which. Whoever accepts them accepts exactly the text they were shown: the version of
  a proposal records its language and the SHA-256 of that text.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from app import i18n
from app.challenges.models import ChallengeTerms

DEFAULT_IP_TERMS: dict[str, str] = {
    "fr": (
        "La propriété intellectuelle des solutions, prototypes et résultats développés par la startup reste "
        "acquise à la startup. Les sponsors reçoivent une licence non exclusive et gratuite d’utilisation du "
        "prototype à des fins d’évaluation pendant la durée du programme. Toute utilisation au-delà du "
        "programme requiert un accord distinct avec la startup."
    ),
    "en": (
        "The intellectual property of the solutions, prototypes and results developed by the startup stays "
        "with the startup. The sponsors receive a non-exclusive, free licence to use the prototype for "
        "evaluation during the programme. Any use beyond the programme needs a separate agreement with the "
        "startup."
    ),
    "ar": (
        "تظل الملكية الفكرية للحلول والنماذج الأولية والنتائج التي تطورها الشركة الناشئة ملكًا للشركة "
        "الناشئة. ويحصل الرعاة على ترخيص غير حصري ومجاني لاستخدام النموذج الأولي لأغراض التقييم خلال مدة "
        "البرنامج. ويستلزم أي استخدام يتجاوز نطاق البرنامج اتفاقًا منفصلًا مع الشركة الناشئة."
    ),
}


def _normalised(text: str) -> str:
    return " ".join(text.replace("\r\n", "\n").split())


def default_terms(language: str | None = None) -> str:
    """The default terms in this language (the current one when none is given)."""
    return DEFAULT_IP_TERMS.get(language or i18n.get_language(), DEFAULT_IP_TERMS["fr"])


def is_default(text: str) -> bool:
    """Whether the text is the default terms, in any language (whitespace and line endings aside)."""
    given = _normalised(text)
    return any(given == _normalised(t) for t in DEFAULT_IP_TERMS.values())


def terms_values(text: str | None, language: str | None = None) -> dict[str, Any]:
    """The columns of a version of the terms for this text (the default terms when empty), written in
    `language` (the current one when none is given)."""
    language = language or i18n.get_language()
    if not text or not text.strip() or is_default(text):
        original = default_terms(language)
        others = {lang: t for lang, t in DEFAULT_IP_TERMS.items() if lang != language}
        return {"ip_terms": original, "language": language, "translations": others}
    return {"ip_terms": text, "language": language, "translations": {}}


def set_text(terms: ChallengeTerms, text: str, language: str | None = None) -> None:
    """Give an unfrozen version of the terms a new text (see terms_values)."""
    for name, value in terms_values(text, language).items():
        setattr(terms, name, value)


@dataclass(frozen=True)
class ShownTerms:
    """The text of the terms a reader is shown, and its language (None when not recorded)."""

    text: str
    language: str | None
    translated: bool  # the reader's language has its own text

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def shown_to(terms: ChallengeTerms, language: str | None = None) -> ShownTerms:
    """The terms in the reader's language (the current one when none is given) when the version has them,
    else as written."""
    language = language or i18n.get_language()
    if language != terms.language and language in (terms.translations or {}):
        return ShownTerms(terms.translations[language], language, True)
    return ShownTerms(terms.ip_terms, terms.language, terms.language == language)
