"""The profile screens' one-item edits (profiles.py) and the card's read model
(queries.profile_view), on SQLite and PostgreSQL."""

import pytest

from domain.errors import NotAllowed, ValidationError
from domain.usecases import profiles, queries
from domain.usecases.profiles import ProfileFields
from tests.usecases.conftest import CLIENT, FREELANCER


async def test_skills_toggle_typed_tags_and_removal(users, clock, config):
    db = users
    args = (clock, config, FREELANCER)
    async with db.uow() as uow:
        await profiles.toggle_skill(uow, *args, "python")
        await profiles.toggle_skill(uow, *args, "telegram-bots")
        await profiles.add_skills(uow, *args, "C++")
        await profiles.add_skills(uow, *args, "UI/UX design")  # a taxonomy skill by its name
        await profiles.add_skills(uow, *args, "c++")  # already there (any case): no change
        profile = await profiles.toggle_skill(uow, *args, "python")  # a second toggle removes
        assert (profile.skills, profile.tags) == (["telegram-bots", "ui-ux"], ["C++"])
        profile = await profiles.remove_item(uow, *args, "tags", 0)
        assert (profile.skills, profile.tags) == (["telegram-bots", "ui-ux"], [])
        # Several at once, as in the job wizard; a taxonomy name among them is its slug.
        profile = await profiles.add_skills(uow, *args, "HTML, CSS; Figma\npython, css")
        assert (profile.skills, profile.tags) == (
            ["telegram-bots", "ui-ux", "python"],
            ["HTML", "CSS", "Figma"],
        )
        profile = await profiles.remove_item(uow, *args, "tags", 2)
        profile = await profiles.remove_item(uow, *args, "tags", 1)
        profile = await profiles.remove_item(uow, *args, "tags", 0)
        profile = await profiles.toggle_skill(uow, *args, "python")
        with pytest.raises(ValidationError) as err:
            await profiles.remove_item(uow, *args, "tags", 0)  # a stale button
        assert err.value.code == "profile_item_gone"
        with pytest.raises(ValidationError) as err:
            await profiles.toggle_skill(uow, *args, "not-a-skill")
        assert err.value.code == "profile_skill_unknown"
        for k in range(profiles.MAX_TAGS):
            await profiles.add_skills(uow, *args, f"tag{k}")
        with pytest.raises(ValidationError) as err:
            await profiles.add_skills(uow, *args, "one-too-many")
        assert err.value.code == "skills_too_many"
        await uow.commit()
    async with db.uow() as uow:
        saved = await uow.profiles.get(FREELANCER)
        assert len(saved.tags) == profiles.MAX_TAGS and "one-too-many" not in saved.tags


async def test_links_and_certifications_one_at_a_time(sqlite_users, clock, config):
    db = sqlite_users
    args = (clock, config, FREELANCER)
    async with db.uow() as uow:
        await profiles.add_portfolio_link(uow, *args, "github.com/fran")
        await profiles.add_portfolio_link(uow, *args, "https://github.com/fran")  # same link
        profile = await profiles.add_portfolio_link(uow, *args, "https://dribbble.com/fran")
        assert profile.portfolio == ["https://github.com/fran", "https://dribbble.com/fran"]
        profile = await profiles.remove_item(uow, *args, "portfolio", 0)
        assert profile.portfolio == ["https://dribbble.com/fran"]
        await profiles.add_certification(uow, *args, "AWS <Certified>")
        profile = await profiles.add_certification(uow, *args, "AWS <Certified>")
        assert profile.certifications == ["AWS <Certified>"]
        with pytest.raises(ValidationError):
            await profiles.add_portfolio_link(uow, *args, "javascript:alert(1)")
        with pytest.raises(ValidationError):
            await profiles.remove_item(uow, *args, "bio", 0)
        with pytest.raises(NotAllowed):
            await profiles.add_certification(uow, clock, config, CLIENT, "Not a freelancer")


async def test_profile_view_has_the_meter_and_the_shared_record(sqlite_users, clock, config):
    db = sqlite_users
    async with db.uow() as uow:
        view = await queries.profile_view(uow, clock, FREELANCER)
        assert (view.profile, view.percent, view.next_step) == (None, 0, "add_headline")
        fields = ProfileFields(headline="Bot developer", skills=["python", "sql", "c++"])
        await profiles.update_profile(uow, clock, config, FREELANCER, fields)
        view = await queries.profile_view(uow, clock, FREELANCER)
        assert (view.percent, view.next_step) == (35, "add_category")
        assert view.record == await queries.freelancer_record(uow, clock, FREELANCER)
        assert view.reputation == await queries.reputation_of(uow, clock, FREELANCER)
