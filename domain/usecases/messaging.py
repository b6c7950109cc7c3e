"""Messages between the parties, relayed by the bot and kept as the record.

Within a contract, its two parties write to each other. Before a contract, a
client and a freelancer who pitched on (or was invited to) the client's job
may write about that job. Contact details in a message before a contract is
active are flagged and reported: deals must stay on the platform.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain import validation
from domain.contact import find_contact_details
from domain.entities import ContractMessage
from domain.errors import NotAllowed, ValidationError
from domain.ports import Clock, UnitOfWork
from domain.states import ContractStatus
from domain.usecases.common import active_user, load, other_party, require_party

MAX_FILES = 10
CONTRACT_OPEN = (ContractStatus.ACTIVE, ContractStatus.ENDED)


async def _may_talk_about_job(uow: UnitOfWork, job_id: int, a: int, b: int) -> bool:
    job = await load(uow.jobs, job_id, "job")
    if job.client_id not in (a, b) or a == b:
        return False
    freelancer_id = b if job.client_id == a else a
    return bool(
        await uow.pitches.count(job_id=job_id, freelancer_id=freelancer_id)
        or await uow.invitations.count(job_id=job_id, freelancer_id=freelancer_id)
    )


async def send_message(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    text: str = "",
    files: Sequence[str] = (),
    *,
    contract_id: int | None = None,
    job_id: int | None = None,
    recipient_id: int | None = None,
) -> ContractMessage:
    """Send within a contract (`contract_id`), or about a job (`job_id` + `recipient_id`)."""
    await active_user(uow, actor_id)
    body = text.strip()
    if body or not files:
        body = validation.clean_text(text, "message", 1, validation.MESSAGE_MAX)
    if len(files) > MAX_FILES:
        raise ValidationError("too_many_files", f"At most {MAX_FILES} files.", max=MAX_FILES)
    before_contract = True
    if contract_id is not None:
        contract = await load(uow.contracts, contract_id, "contract")
        require_party(contract, actor_id)
        recipient_id = other_party(contract, actor_id)
        job_id = contract.job_id
        before_contract = contract.status not in CONTRACT_OPEN
    elif (
        job_id is None
        or recipient_id is None
        or not await _may_talk_about_job(uow, job_id, actor_id, recipient_id)
    ):
        raise NotAllowed(
            "may_not_message", "You can message people you work or talk with about a job."
        )
    recipient = await uow.users.get(recipient_id)
    if recipient is None or recipient.banned:
        raise NotAllowed("recipient_unavailable", "This person cannot receive messages.")
    found = find_contact_details(body) if before_contract else []
    message = await uow.messages.add(
        ContractMessage(
            contract_id=contract_id,
            job_id=job_id,
            sender_id=actor_id,
            recipient_id=recipient_id,
            text=body,
            files=list(files),
            flagged_contact=bool(found),
            created_at=clock.now(),
        )
    )
    uow.emit(
        "message_sent",
        message_id=message.id,
        sender_id=actor_id,
        recipient_id=recipient_id,
        contract_id=contract_id,
        job_id=job_id,
    )
    if found:
        uow.emit(
            "contact_details_warning",
            message_id=message.id,
            sender_id=actor_id,
            recipient_id=recipient_id,
            found=found,
        )
    return message
