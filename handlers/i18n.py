"""Translations: gettext catalogs compiled in memory at import, and the translator.

Catalogs: handlers/locales/<lang>/LC_MESSAGES/*.po. Every .po file in that folder
is loaded and merged, so each flow may keep its strings in a file of its own
(messages.po holds the shared ones). Message ids are symbolic keys such as
"menu.title" or "error.job_not_found"; the English catalog holds the English
text. Placeholders are str.format style: "Hello, {name}!".

Plural forms (Babel's, so Russian gets its three): an entry with a
`msgid_plural` is translated with ngettext, and its msgid_plural names the
parameter whose number picks the form ("1 review", "2 reviews"; "1 отзыв",
"2 отзыва", "5 отзывов"):

    msgid "profile.rating"
    msgid_plural "count"
    msgstr[0] "⭐ {average} ({count} review)"
    msgstr[1] "⭐ {average} ({count} reviews)"

Callers pass the number as usual: `t("profile.rating", average=…, count=3)`.

The .po files are compiled to .mo in memory (babel pofile.read_po →
mofile.write_mo → babel.support.Translations) when this module is imported:
there is no build step, and no compiled file can be stale.
"""

from __future__ import annotations

import logging
import string
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from domain.errors import DomainError
from domain.money import Money
from handlers.render import Html, esc

log = logging.getLogger(__name__)

LOCALES = Path(__file__).parent / "locales"
DEFAULT_LANGUAGE = "en"


def _discover() -> tuple[str, ...]:
    found = sorted(p.name for p in LOCALES.iterdir() if (p / "LC_MESSAGES").is_dir())
    return tuple(sorted(found, key=lambda lang: lang != DEFAULT_LANGUAGE))


LANGUAGES: tuple[str, ...] = _discover()  # the default language first


def po_files(lang: str) -> list[Path]:
    return sorted((LOCALES / lang / "LC_MESSAGES").glob("*.po"))


def load_catalog(lang: str) -> Catalog:
    """All .po files of a language merged into one catalog (the first definition wins)."""
    merged = Catalog(locale=lang, domain="messages")
    for path in po_files(lang):
        with path.open("rb") as f:
            catalog = read_po(f, locale=lang)
        for message in catalog:
            if not message.id:
                continue  # the header
            if message.id in merged:
                log.warning("duplicate message id %r in %s", message.id, path)
                continue
            merged.add(message.id, message.string, flags=message.flags)
    return merged


def _compile(catalog: Catalog) -> Translations:
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf, domain="messages")


@cache
def _translations(lang: str) -> Translations:
    return _compile(load_catalog(lang))


@cache
def plural_parameters(lang: str) -> dict[str, str]:
    """Plural entries of a language: key → the parameter whose number picks the form."""
    return {m.id[0]: m.id[1] for m in load_catalog(lang) if isinstance(m.id, tuple)}


def _number(value: object) -> int:
    """The count a plural form is chosen by (a non-number reads as "many")."""
    try:
        return abs(int(str(value).replace(",", "").split(".")[0]))
    except ValueError:
        return 5


def language_for(language_code: str | None) -> str:
    """Telegram's language_code → a language we speak ("ru-RU" → "ru"), else English."""
    base = (language_code or "").strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


class _Missing(dict):
    """A placeholder nobody passed stays visible instead of crashing the reply."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _as_is(text: str, params: dict[str, object]) -> bool:
    """Nothing to fill in (a label): formatting would give the text back as it is,
    and cost 2 of the 2.7 µs of a lookup."""
    return not params and "{" not in text and "}" not in text


def placeholders(text: str) -> set[str]:
    """The {names} a message uses (for the catalog tests)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@dataclass(frozen=True, slots=True)
class Translator:
    """`t(key, **params)` in one language.

    `t(...)` returns HTML: the catalog text is trusted markup and every parameter
    is escaped unless it is already `Html`. `t.plain(...)` returns plain text
    for button labels and callback answers (Telegram shows those verbatim).
    """

    lang: str

    def raw(self, key: str, params: dict[str, object] | None = None) -> str | None:
        """The catalog text in this language, else in English, else None; a plural
        entry in the form its count parameter in `params` calls for."""
        for lang in (self.lang, DEFAULT_LANGUAGE):
            counted = plural_parameters(lang).get(key)
            if counted is not None:
                n = _number((params or {}).get(counted, 5))
                text = _translations(lang).ngettext(key, counted, n)
                if text not in (key, counted):
                    return text
                continue
            text = _translations(lang).gettext(key)
            if text != key:
                return text
        return None

    def has(self, key: str) -> bool:
        return self.raw(key) is not None

    def __call__(self, key: str, **params: object) -> Html:
        text = self.raw(key, params)
        if text is None:
            log.warning("missing translation %r", key)
            return esc(key)
        if _as_is(text, params):
            return Html(text)
        safe = {name: esc(value) for name, value in params.items()}
        return Html(text.format_map(_Missing(safe)))

    def plain(self, key: str, **params: object) -> str:
        text = self.raw(key, params)
        if text is None:
            log.warning("missing translation %r", key)
            return key
        if _as_is(text, params):
            return text
        return text.format_map(_Missing({k: str(v) for k, v in params.items()}))

    def _error_params(self, err: DomainError) -> dict[str, object]:
        params = dict(err.params)
        field = params.get("field")
        # An amount's example fits its field ("e.g. 40" for a rate, "e.g. 1500" for a budget).
        example = f"example.{field}" if isinstance(field, str) else "example.amount"
        params.setdefault("example", self.plain(example if self.has(example) else "example.amount"))
        if isinstance(field, str) and self.has(f"field.{field}"):
            params["field"] = self.plain(f"field.{field}")
        for name, value in params.items():
            if isinstance(value, Money):  # limits and balances: "$95.00", never minor units
                params[name] = value.format()
        return params

    def error(self, err: DomainError) -> Html:
        """The refusal in this language; an untranslated code falls back to the English message."""
        key = f"error.{err.code}"
        if not self.has(key):
            return esc(err.message)
        return self(key, **self._error_params(err))

    def error_plain(self, err: DomainError) -> str:
        key = f"error.{err.code}"
        if not self.has(key):
            return err.message
        return self.plain(key, **self._error_params(err))


@cache
def translator(lang: str | None) -> Translator:
    return Translator(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
