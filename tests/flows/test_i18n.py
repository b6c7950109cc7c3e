"""The catalogs are complete in English and Russian, agree on placeholders, are valid
Telegram HTML, and cover every key the handlers use and every error code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from domain.errors import DomainError, NotFound
from domain.states import JobStatus
from handlers.commands import admin_command_menu, admin_commands, command_menu, user_commands
from handlers.i18n import (
    LANGUAGES,
    _Missing,
    language_for,
    load_catalog,
    placeholders,
    plural_parameters,
    translator,
)
from handlers.routing import ROUTER
from tests.flows.codes import ROOT, raised_codes
from tests.flows.telegram_html import visible_text

_BARE_AMP = re.compile(r"&(?!(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)")


def strings(lang: str) -> dict[str, str]:
    """key → text; a plural entry's forms joined by a newline (each is checked)."""
    found = {}
    for m in load_catalog(lang):
        if not m.id or not m.string:
            continue
        if isinstance(m.id, tuple):
            found[m.id[0]] = "\n".join(m.string)
        else:
            found[m.id] = m.string
    return found


EN, RU = strings("en"), strings("ru")


def used_keys() -> tuple[set[str], set[str]]:
    """(literal keys, prefixes of f-string keys) passed to t(…), t.plain(…), notify(…)."""
    literal: set[str] = set()
    prefixes: set[str] = set()
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("t", "plain") and node.args:
                key = node.args[0]
            elif name == "notify" and len(node.args) >= 2:
                key = node.args[1]
            else:
                continue
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                literal.add(key.value)
            elif isinstance(key, ast.JoinedStr) and isinstance(key.values[0], ast.Constant):
                prefixes.add(str(key.values[0].value))
    return literal, prefixes


def test_languages_are_english_first_and_russian():
    assert LANGUAGES[0] == "en"
    assert "ru" in LANGUAGES


def test_english_and_russian_have_the_same_keys():
    assert sorted(set(EN) - set(RU)) == [], "keys without a Russian translation"
    assert sorted(set(RU) - set(EN)) == [], "keys without English text"


def test_placeholders_agree():
    differ = {k: (placeholders(EN[k]), placeholders(RU[k])) for k in EN if k in RU}
    assert {k: v for k, v in differ.items() if v[0] != v[1]} == {}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_message_is_valid_telegram_html(lang):
    t = translator(lang)
    for key, text in strings(lang).items():
        params = {name: "<x & y>" for name in placeholders(text)}
        # A bare "&" (a label such as "Video & audio") is shown literally by Telegram;
        # the harness still refuses one that reaches a message unescaped.
        visible_text(_BARE_AMP.sub("&amp;", t(key, **params)))


def test_every_key_used_in_code_is_translated():
    literal, prefixes = used_keys()
    assert len(literal) > 30  # the scan found the calls
    missing = sorted(k for k in literal if k not in EN or k not in RU)
    assert missing == []
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in EN), f"no key starts with {prefix!r}"


def test_dynamic_keys_are_translated():
    keys = [f"job.status.{s}" for s in JobStatus]
    keys += [f"lang.{lang}" for lang in LANGUAGES]
    keys += [f"cmd.{c}" for c in user_commands() + admin_commands()]
    keys += [r.label_key for r in ROUTER.menu_entries()]
    keys += [f"start.role_set_{r}" for r in ("client", "freelancer", "both")]
    keys += [f"report.ask_{x}" for x in ("job", "user")] + [
        f"report.admin_{x}" for x in ("job", "user")
    ]
    assert sorted(k for k in keys if k not in EN or k not in RU) == []


def test_every_error_code_is_translated():
    codes = raised_codes()
    assert "job_not_found" in codes and "stale_button" in codes
    missing = {
        c: where for c, where in codes.items() if f"error.{c}" not in EN or f"error.{c}" not in RU
    }
    assert missing == {}


def test_unknown_error_code_falls_back_to_the_english_message_escaped():
    err = DomainError("brand_new_code", "Use <b>less</b> & try again.")
    assert translator("ru").error(err) == "Use &lt;b&gt;less&lt;/b&gt; &amp; try again."
    assert translator("ru").error_plain(err) == "Use <b>less</b> & try again."


def test_error_in_russian_with_translated_field_and_params():
    err = DomainError("text_too_long", "long", field="reason", max=10, length=12)
    assert translator("ru").error(err) == "Поле «причина»: не больше 10 символов, а у вас 12."
    assert translator("en").error(NotFound("job_not_found")) == "This job no longer exists."


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_text_without_parameters_reads_as_formatting_it_would(lang):
    """t.plain and t return a text given no parameters as it is, unformatted, when
    it has no braces (handlers/i18n.py): for every catalog entry that is what
    formatting it would have given ("{{" is a brace, "{name}" stays visible)."""
    t = translator(lang)
    for key in strings(lang):
        raw = t.raw(key)
        assert raw is not None
        formatted = raw.format_map(_Missing({}))
        assert t.plain(key) == formatted, key
        assert t(key) == formatted, key


def test_parameters_are_escaped_but_plain_keeps_them():
    t = translator("en")
    assert "&lt;b&gt;Eve&lt;/b&gt;" in t("menu.title", name="<b>Eve</b>")
    assert t.plain("settings.language", language="<x>") == "Language: <x>"


def test_language_from_telegram():
    assert language_for("ru") == "ru"
    assert language_for("ru-RU") == "ru"
    assert language_for("uk") == "en"
    assert language_for(None) == "en"
    assert translator("xx").lang == "en"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_command_menu_per_language(lang):
    menu = command_menu(lang)
    assert [c for c, _ in menu] == list(user_commands())
    for name, description in menu + admin_command_menu(lang):
        assert re.fullmatch(r"[a-z0-9_]{1,32}", name)
        assert 1 <= len(description) <= 256 and description != f"cmd.{name}"
    admin = list(admin_commands())
    assert [c for c, _ in admin_command_menu(lang)][-len(admin) :] == admin
    if lang == "ru":
        assert dict(menu)["settings"] == "Язык и роли"


def test_po_files_exist_for_both_languages():
    for lang in ("en", "ru"):
        assert (Path(ROOT) / "handlers" / "locales" / lang / "LC_MESSAGES" / "messages.po").exists()


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_no_key_is_defined_in_two_catalog_files(lang):
    from babel.messages.pofile import read_po

    from handlers.i18n import po_files

    seen: dict[str, str] = {}
    clashes = []
    for path in po_files(lang):
        with path.open("rb") as f:
            for message in read_po(f, locale=lang):
                if message.id and message.id in seen:
                    clashes.append((message.id, seen[message.id], path.name))
                elif message.id:
                    seen[message.id] = path.name
    assert clashes == []


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_plural_entries_have_every_form_with_the_same_placeholders(lang):
    """Babel plural forms (handlers/i18n.py): as many forms as the language has
    (Russian: 3), none empty, each with the same placeholders, the count among them,
    and the same count parameter in both languages."""
    catalog = load_catalog(lang)
    plurals = [m for m in catalog if isinstance(m.id, tuple)]
    assert len(plurals) >= 5
    english = plural_parameters("en")
    for m in plurals:
        key, counted = m.id
        assert len(m.string) == catalog.num_plurals and all(m.string), key
        forms = {frozenset(placeholders(form)) for form in m.string}
        assert len(forms) == 1 and counted in next(iter(forms)), key
        assert english.get(key) == counted, key


def test_plural_forms_follow_the_count():
    en, ru = translator("en"), translator("ru")
    assert en.plain("rv.rep.rating", average="5.0", count=1).endswith("1 review")
    assert en.plain("rv.rep.rating", average="5.0", count=2).endswith("2 reviews")
    assert "1 отзыв" in ru.plain("rv.rep.rating", average="5.0", count=1)
    assert "3 отзыва" in ru.plain("rv.rep.rating", average="5.0", count=3)
    assert "5 отзывов" in ru.plain("rv.rep.rating", average="5.0", count=5)
    assert "21 отзыв" in ru.plain("rv.rep.rating", average="5.0", count=21)


# Parameters that carry a count a person sees next to a noun; limits from the config
# ({max}, {min}, {limit}, {quota}) are never 1 and read as "at most 20 skills".
_COUNTS = ("count", "days", "hours", "years", "milestones", "answered", "files", "n")
_COUNTED_NOUN = re.compile(r"\{(" + "|".join(_COUNTS) + r")\}\+? [a-z]+s\b|\w\(s\)")


def test_no_english_count_without_plural_forms():
    """Issue 11, item 14: "1 reviews", "1 days", "milestone(s)" — a number before a
    plural noun must be a plural entry (handlers/i18n.py), so "1 review" reads right."""
    plural = plural_parameters("en")
    wrong = {
        key: text for key, text in EN.items() if key not in plural and _COUNTED_NOUN.search(text)
    }
    assert wrong == {}
