"""Refusals that name a limit carry it as a param (max, max_length) from the
raising code, and errors.po shows it through a placeholder, never a typed number,
in English and Russian alike."""

import re

import pytest
from babel.messages.pofile import read_po

from domain.errors import ValidationError
from domain.usecases import alerts, profiles
from domain.usecases.alerts import SubscriptionFields
from domain.usecases.profiles import ProfileFields
from handlers.i18n import LANGUAGES, LOCALES, placeholders, translator
from tests.usecases.conftest import FREELANCER

# Digits allowed in errors.po: the quota's window is the product's fixed "weekly"
# rule (domain.usecases.pitches.QUOTA_WINDOW), worded as such on every pitch screen.
FIXED_WORDING = {"error.pitch_quota": {"7"}}


def _rendered(err: ValidationError) -> dict[str, str]:
    return {lang: translator(lang).error_plain(err) for lang in LANGUAGES}


async def test_certifications_too_many_names_its_limit(sqlite_users, clock, config):
    db = sqlite_users
    most = [f"Certificate {n}" for n in range(profiles.MAX_CERTIFICATIONS)]
    async with db.uow() as uow:
        args = (uow, clock, config, FREELANCER)
        await profiles.update_profile(*args, ProfileFields(certifications=most))
        with pytest.raises(ValidationError) as err:
            await profiles.add_certification(*args, "One too many")
    assert (err.value.code, err.value.params) == ("certifications_too_many", {"max": 10})
    assert _rendered(err.value) == {
        "en": "At most 10 certifications; remove some first.",
        "ru": "Максимум сертификатов: 10. Сначала удалите лишние.",
    }


@pytest.mark.parametrize(
    "keywords",
    [[f"word{n}" for n in range(alerts.MAX_KEYWORDS + 1)], ["x" * (alerts.MAX_KEYWORD_LEN + 1)]],
    ids=["too many", "too long"],
)
async def test_keywords_invalid_names_its_limits(sqlite_users, clock, config, keywords):
    db = sqlite_users
    async with db.uow() as uow:
        with pytest.raises(ValidationError) as err:
            await alerts.create_subscription(
                uow, clock, FREELANCER, SubscriptionFields(keywords=keywords)
            )
    assert err.value.code == "keywords_invalid"
    assert err.value.params == {"max": 10, "max_length": 40}
    assert _rendered(err.value) == {
        "en": "Use at most 10 keywords, each up to 40 characters.",
        "ru": "Ключевых слов — не больше 10, каждое — до 40 символов.",
    }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_errors_po_types_no_limits(lang):
    with (LOCALES / lang / "LC_MESSAGES" / "errors.po").open("rb") as f:
        catalog = read_po(f, locale=lang)
    typed = {}
    for message in catalog:
        if not message.id:
            continue
        text = message.string
        for name in placeholders(text):
            text = text.replace("{" + name + "}", "")
        digits = set(re.findall(r"\d+", text)) - FIXED_WORDING.get(message.id, set())
        if digits:
            typed[message.id] = sorted(digits)
    assert typed == {}
