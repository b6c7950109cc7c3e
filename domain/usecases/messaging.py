"""Messages between the parties, relayed by the bot and kept as the record.

Within a contract, its two parties write to each other while it is open for
messages (offered, countered, active or ended — not declined, withdrawn or
expired). Before a contract, a client and a freelancer who pitched on (or was
invited to) the client's job may write about that job; the client may write to
the freelancer of a pitch on the client's job. A message one received can be
answered. Contact details in a message before a contract is active are flagged
and reported: deals must stay on the platform. The parties see the record of a
contract's messages.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain import validation
from domain.contact import find_contact_details
from domain.entities import Contract, ContractMessage, Pitch
from domain.errors import NotAllowed, ValidationError
from domain.events import ContactDetailsWarning, MessageSent
from domain.ports import Clock, UnitOfWork
from domain.states import ContractStatus
from domain.usecases import moderation
from domain.usecases.blocking import require_contact
from domain.usecases.common import active_user, load, other_party, require_party
from domain.usecases.visibility import owned_job

MAX_FILES = 10
CONTRACT_OPEN = (ContractStatus.ACTIVE, ContractStatus.ENDED)
# A contract one can still write on; declined, withdrawn and expired offers are closed.
WRITABLE = frozenset(
    {ContractStatus.OFFERED, ContractStatus.COUNTERED, ContractStatus.ACTIVE, ContractStatus.ENDED}
)


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
    await require_contact(uow, actor_id, recipient_id, running_contract=not before_contract)
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
        MessageSent(
            message_id=message.id,
            sender_id=actor_id,
            recipient_id=recipient_id,
            contract_id=contract_id,
            job_id=job_id,
        )
    )
    if found:
        await moderation.record(uow, clock, actor_id, "message", message.id, found)
        uow.emit(
            ContactDetailsWarning(
                message_id=message.id,
                sender_id=actor_id,
                recipient_id=recipient_id,
                found=found,
            )
        )
    return message


async def writable_contract(uow: UnitOfWork, actor_id: int, contract_id: int) -> Contract:
    """The contract, if the actor is a party and it is open for messages."""
    await active_user(uow, actor_id)
    contract = await load(uow.contracts, contract_id, "contract")
    require_party(contract, actor_id)
    if contract.status not in WRITABLE:
        raise NotAllowed("contract_closed", "This contract is closed for messages.")
    await require_contact(
        uow,
        actor_id,
        other_party(contract, actor_id),
        running_contract=contract.status in CONTRACT_OPEN,
    )
    return contract


async def pitch_for_message(uow: UnitOfWork, actor_id: int, pitch_id: int) -> Pitch:
    """A pitch on the actor's own job (the client writes to its freelancer)."""
    await active_user(uow, actor_id)
    pitch = await load(uow.pitches, pitch_id, "pitch")
    await owned_job(uow, actor_id, pitch.job_id)
    await require_contact(uow, actor_id, pitch.freelancer_id)
    return pitch


async def reply_target(uow: UnitOfWork, actor_id: int, message_id: int) -> ContractMessage:
    """A message the actor received and may answer."""
    await active_user(uow, actor_id)
    original = await load(uow.messages, message_id, "message")
    if original.recipient_id != actor_id:
        raise NotAllowed("not_your_message", "This message was not sent to you.")
    if original.contract_id is not None:
        await writable_contract(uow, actor_id, original.contract_id)
    elif original.job_id is None:
        raise NotAllowed("not_your_message", "This message was not sent to you.")
    else:
        await require_contact(uow, actor_id, original.sender_id)
    return original


async def reply(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    message_id: int,
    text: str,
    files: Sequence[str] = (),
) -> ContractMessage:
    """Answer a received message: on its contract, or before a contract about its job."""
    original = await reply_target(uow, actor_id, message_id)
    if original.contract_id is not None:
        return await send_message(
            uow, clock, actor_id, text, files, contract_id=original.contract_id
        )
    return await send_message(
        uow, clock, actor_id, text, files, job_id=original.job_id, recipient_id=original.sender_id
    )


async def to_contract(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    contract_id: int,
    text: str,
    files: Sequence[str] = (),
) -> ContractMessage:
    """Write on a contract that is open for messages (not declined, withdrawn or expired)."""
    await writable_contract(uow, actor_id, contract_id)
    return await send_message(uow, clock, actor_id, text, files, contract_id=contract_id)


async def to_pitch(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    pitch_id: int,
    text: str,
    files: Sequence[str] = (),
) -> ContractMessage:
    """The client writes to the freelancer of a pitch on the client's job."""
    pitch = await pitch_for_message(uow, actor_id, pitch_id)
    return await send_message(
        uow, clock, actor_id, text, files, job_id=pitch.job_id, recipient_id=pitch.freelancer_id
    )


async def contract_history(
    uow: UnitOfWork, actor_id: int, contract_id: int
) -> tuple[Contract, list[ContractMessage]]:
    """The record of a contract's messages, oldest first (parties only)."""
    await active_user(uow, actor_id)
    contract = await load(uow.contracts, contract_id, "contract")
    require_party(contract, actor_id)
    return contract, await uow.messages.find(order_by="id", contract_id=contract_id)
