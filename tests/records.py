"""A freelancer's track record for tests, built as the bot builds it: an ended contract
with the client's review of them, written hidden and revealed later (the search indexes
follow the reveal)."""

from __future__ import annotations

from typing import Any

from domain.entities import Contract, Job, Review
from domain.ports import UnitOfWork
from domain.states import ContractStatus, JobStatus, ReviewStatus

JOB_ID = 1  # the closed job the contracts of reviewed() belong to


async def add_reviewed_contract(
    uow: UnitOfWork, job_id: int, client_id: int, freelancer_id: int, stars: int, title: str = "t"
) -> Contract:
    """An ended contract of the freelancer on the job, and the client's review of them
    (hidden, as a review is written: reveal it in a later unit of work)."""
    contract = await uow.contracts.add(
        Contract(
            job_id=job_id,
            client_id=client_id,
            freelancer_id=freelancer_id,
            title=title,
            currency="USD",
            client_fee_bp=0,
            freelancer_fee_bp=0,
            status=ContractStatus.ENDED,
        )
    )
    await uow.reviews.add(
        Review(
            contract_id=contract.id,
            reviewer_id=client_id,
            reviewee_id=freelancer_id,
            rating=stars,
            status=ReviewStatus.HIDDEN,
        )
    )
    return contract


async def reviewed(db: Any, client_id: int, freelancer_id: int, stars: int) -> None:
    """An ended contract of the freelancer (on job JOB_ID, added closed if missing) with
    a review of them, revealed in a second unit of work."""
    async with db.uow() as uow:
        if await uow.jobs.get(JOB_ID) is None:
            await uow.jobs.add(
                Job(id=JOB_ID, client_id=client_id, title="t", status=JobStatus.CLOSED)
            )
        contract = await add_reviewed_contract(uow, JOB_ID, client_id, freelancer_id, stars)
        await uow.commit()
    async with db.uow() as uow:
        (review,) = await uow.reviews.find(contract_id=contract.id)
        review.status = ReviewStatus.REVEALED
        await uow.commit()
