"""Messages between the parties, kept as the record (ContractMessage).

- On a contract (offered, countered, active or ended): either party writes to
  the other; text and files.
- Before a contract: the client writes to a freelancer who pitched on the
  client's job, and either of them answers a message they received.

Contact details shared before a contract exists (pitch messages, and contracts
still at the offer stage) are flagged: taking a deal off the platform loses
both sides its protection, so the sender is warned and admins can see the flag.

Events:
- contract_message: message_id, contract_id, sender_id, recipient_id, flagged
- pitch_message: message_id, job_id, sender_id, recipient_id, flagged
"""

from __future__ import annotations

from collections.abc import Sequence

from domain import validation
from domain.contact import has_contact_details
from domain.entities import Contract, ContractMessage, Pitch
from domain.errors import NotAllowed, ValidationError
from domain.ports import Clock, UnitOfWork
from domain.states import ContractStatus
from domain.usecases.common import active_user, load, other_party, require_party

MAX_FILES = 10
# A contract one can still write on; declined, withdrawn and expired offers are closed.
WRITABLE = frozenset(
    {ContractStatus.OFFERED, ContractStatus.COUNTERED, ContractStatus.ACTIVE, ContractStatus.ENDED}
)
# Agreed contracts: contact details are no longer a way around the platform.
AGREED = frozenset({ContractStatus.ACTIVE, ContractStatus.ENDED})


def _body(text: str, files: Sequence[str]) -> str:
    """The text may be empty only when files carry the message."""
    if len(files) > MAX_FILES:
        raise ValidationError("too_many_files", f"At most {MAX_FILES} files.")
    if not (text or "").strip() and files:
        return ""
    return validation.clean_text(text, "message", 1, validation.MESSAGE_MAX)


async def writable_contract(uow: UnitOfWork, actor_id: int, contract_id: int) -> Contract:
    """The contract, if the actor is a party and it is open for messages."""
    await active_user(uow, actor_id)
    contract = await load(uow.contracts, contract_id, "contract")
    require_party(contract, actor_id)
    if contract.status not in WRITABLE:
        raise NotAllowed("contract_closed", "This contract is closed for messages.")
    return contract


async def send_contract_message(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    contract_id: int,
    text: str,
    files: Sequence[str] = (),
) -> ContractMessage:
    contract = await writable_contract(uow, actor_id, contract_id)
    body = _body(text, files)
    recipient = await active_user(uow, other_party(contract, actor_id))
    flagged = contract.status not in AGREED and has_contact_details(body)
    message = await uow.messages.add(
        ContractMessage(
            contract_id=contract.id,
            job_id=contract.job_id,
            sender_id=actor_id,
            recipient_id=recipient.id,
            text=body,
            files=list(files),
            flagged_contact=flagged,
            created_at=clock.now(),
        )
    )
    uow.emit(
        "contract_message",
        message_id=message.id,
        contract_id=contract.id,
        sender_id=actor_id,
        recipient_id=recipient.id,
        flagged=flagged,
    )
    return message


async def pitch_for_message(uow: UnitOfWork, actor_id: int, pitch_id: int) -> Pitch:
    """A pitch on the actor's own job (the client writes to its freelancer)."""
    await active_user(uow, actor_id)
    pitch = await load(uow.pitches, pitch_id, "pitch")
    job = await load(uow.jobs, pitch.job_id, "job")
    if job.client_id != actor_id:
        raise NotAllowed("not_your_job", "This job is not yours.")
    return pitch


async def _pre_contract(
    uow: UnitOfWork, clock: Clock, sender_id: int, recipient_id: int, job_id: int, text: str
) -> ContractMessage:
    body = _body(text, ())
    recipient = await active_user(uow, recipient_id)
    flagged = has_contact_details(body)
    message = await uow.messages.add(
        ContractMessage(
            job_id=job_id,
            sender_id=sender_id,
            recipient_id=recipient.id,
            text=body,
            flagged_contact=flagged,
            created_at=clock.now(),
        )
    )
    uow.emit(
        "pitch_message",
        message_id=message.id,
        job_id=job_id,
        sender_id=sender_id,
        recipient_id=recipient.id,
        flagged=flagged,
    )
    return message


async def message_pitch(
    uow: UnitOfWork, clock: Clock, actor_id: int, pitch_id: int, text: str
) -> ContractMessage:
    """The client writes to the freelancer of a pitch on the client's job."""
    pitch = await pitch_for_message(uow, actor_id, pitch_id)
    return await _pre_contract(uow, clock, actor_id, pitch.freelancer_id, pitch.job_id, text)


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
    return original


async def reply(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    message_id: int,
    text: str,
    files: Sequence[str] = (),
) -> ContractMessage:
    """Answer a received message: on its contract, or before a contract on its job."""
    original = await reply_target(uow, actor_id, message_id)
    if original.contract_id is not None:
        return await send_contract_message(uow, clock, actor_id, original.contract_id, text, files)
    if files:
        raise ValidationError("files_need_contract", "Files can be sent once there is a contract.")
    assert original.job_id is not None
    return await _pre_contract(uow, clock, actor_id, original.sender_id, original.job_id, text)


async def contract_history(
    uow: UnitOfWork, actor_id: int, contract_id: int
) -> tuple[Contract, list[ContractMessage]]:
    """The record of a contract's messages, oldest first (parties only)."""
    await active_user(uow, actor_id)
    contract = await load(uow.contracts, contract_id, "contract")
    require_party(contract, actor_id)
    return contract, await uow.messages.find(order_by="id", contract_id=contract_id)
