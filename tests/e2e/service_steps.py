"""The New service wizard driven through a real framework (issue 15): for the
services e2e tests (publishing here, buying in test_services_story.py)."""

from __future__ import annotations

from collections.abc import Sequence

from tests.e2e.story_steps import Stage

# (name, included, price, delivery days, revisions button "0".."3")
Package = tuple[str, str, str, str, str]
# (title, price, days button label: "Same time", "1 day faster", "2 days faster", "+1 day")
Extra = tuple[str, str, str]


async def publish_service(
    s: Stage,
    seller: int,
    title: str,
    description: str,
    category: str,
    skill: str,
    packages: Sequence[Package],
    extras: Sequence[Extra] = (),
    links: Sequence[str] = (),
    questions: Sequence[str] = (),
) -> None:
    """/services → ➕ New service → every step → 🚀 Publish (the seller is a freelancer)."""
    await s.send(seller, "/services")
    await s.press(seller, "➕ New service")
    await s.sees(seller, "step 1 of 8")
    await s.send(seller, title)
    await s.sees(seller, "Step 2 of 8")
    await s.send(seller, description)
    await s.press(seller, category)
    await s.press(seller, skill)
    await s.press(seller, "✅ Done")
    for i, (name, included, price, days, revisions) in enumerate(packages):
        if i:
            await s.press(seller, "➕ Add another package")
        await s.sees(seller, "Send the package's name")
        await s.send(seller, name)
        await s.sees(seller, "included")
        await s.send(seller, included)
        await s.sees(seller, "price")
        await s.send(seller, price)
        await s.sees(seller, "Delivery time")
        await s.send(seller, days)
        await s.press(seller, revisions)
        await s.sees(seller, f"Packages ({i + 1} of 3)")
    await s.press(seller, "Continue ›")
    for extra_title, price, days_label in extras:
        await s.press(seller, "➕ Add an extra")
        await s.send(seller, extra_title)
        await s.sees(seller, "The price of")
        await s.send(seller, price)
        await s.press(seller, days_label)
        await s.sees(seller, extra_title)
    await s.press(seller, "Continue ›" if extras else "Skip ›")
    for link in links:
        await s.send(seller, link)
        await s.sees(seller, link)
    await s.press(seller, "Continue ›" if links else "Skip ›")
    for question in questions:
        await s.send(seller, question)
        await s.sees(seller, question)
    await s.press(seller, "Continue ›" if questions else "Skip ›")
    await s.sees(seller, "Preview", title)
    await s.press(seller, "🚀 Publish")
    await s.sees(seller, "Your service is live", title)
