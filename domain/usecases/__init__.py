"""The marketplace's use cases: async functions over the ports (domain.ports).

Convention: ``async def name(uow, clock, config, actor_id, ...)`` — parameters a
use case does not need are dropped, the order is kept. Each use case loads what
it needs (locking the rows it changes), re-authorises the actor, applies the
state machine, persists, records ledger transactions, and emits DomainEvents.
Use cases never commit: the caller commits the unit of work, so a change and
its notifications are one transaction. Refusals are DomainErrors with a stable
``code`` (a translation key).

Modules: accounts, profiles, jobs, alerts, pitches, contracts, payments
(payment_checks: a gateway's news checked against the payment), milestones,
disputes, payouts, messaging, reviews, reports, deadlines (the scheduler's
work), queries and admin (read models); settlement is the one path that empties
an escrow; common holds the shared checks.

Events (``uow.events``; kind: data) for the handlers to render. Wherever a
milestone is concerned the data also carries contract_id, client_id,
freelancer_id, amount and currency ("+ parties" below); amounts are minor units.

accounts
- user_registered: user_id
- user_banned: user_id, reason
- user_unbanned: user_id

jobs / alerts
- job_published: job_id, client_id
- job_alert: job_id, user_id  (one per matching instant subscription)
- job_digest: user_id, job_ids  (daily subscriptions, from deadlines.daily_digest)
- job_paused / job_resumed / job_closed: job_id, client_id

pitches
- pitch_received: pitch_id, job_id, client_id, freelancer_id, price, currency
- pitch_edited / pitch_withdrawn / pitch_shortlisted / pitch_declined:
  pitch_id, job_id, client_id, freelancer_id
- freelancer_invited: invitation_id, job_id, client_id, freelancer_id

contracts (all carry contract_id, client_id, freelancer_id)
- offer_sent: + job_id, total, currency
- offer_accepted, counter_accepted, offer_withdrawn, offer_expired
- offer_declined: + reason
- offer_countered, offer_revised: + total
- milestone_added: + milestone_id, amount, currency
- contract_ended: + ended_by

payments
- funding_started: milestone_id, contract_id, payment_id, client_id, amount,
  client_fee, total, currency, url
- milestone_funded: milestone_id, contract_id, client_id, freelancer_id, amount,
  total (charged, with the client fee), currency
- payment_failed: payment_id, milestone_id, client_id, reason
- payment_refund_due: payment_id, milestone_id, payer_id, amount, currency, error
  (a payment arrived for a milestone that no longer needed it and is not
  refunded yet: no gateway, or the gateway's refusal code in `error`)
- late_payment_refunded: payment_id, milestone_id, payer_id, amount, currency,
  refund_id (such a payment, given back in full through its gateway)
- payment_mismatch (payment_checks): payment_id, milestone_id, payer_id, gateway,
  ref (the gateway's object), account, reasons (amount, currency,
  connected_account, other_mode, not_this_payment), expected_amount,
  expected_currency, amount, currency (what the gateway says it took),
  refund_due (the payment can never fund and its money is being refunded;
  False: refused news, nothing changed, nothing refunded by the platform)

milestones (+ parties)
- work_submitted: submission_id, auto_release_at (ISO)
- changes_requested: note
- milestone_released: to_freelancer, fees, auto (True when by the deadline)
- milestone_refunded: refunded_by, to_client
- milestone_cancelled
- release_reminder: milestone_id, contract_id, client_id, hours_left, auto_release_at

disputes (+ parties, + dispute_id)
- dispute_opened: opened_by, reason (as typed), notes (the opener's evidence
  notes and captions, each {text, files: how many files it describes})
- dispute_answered: sender_id
- split_proposed: proposed_by, share
- split_rejected: rejected_by
- dispute_settled (the parties agreed), dispute_resolved (an admin decided):
  share, to_freelancer, to_client
- dispute_withdrawn: withdrawn_by
- milestone_frozen / chargeback_after_settlement: milestone_id, contract_id,
  client_id, freelancer_id, payment_id (+ status)
- frozen_resolved: milestone_id, contract_id, client_id, freelancer_id, share,
  to_freelancer, to_client

payouts
- payout_sent: payout_id, user_id, amount, currency

messaging
- message_sent: message_id, sender_id, recipient_id, contract_id, job_id
- contact_details_warning: message_id, sender_id, recipient_id, found (list)

reviews
- review_left: contract_id, review_id, reviewer_id, reviewee_id
- reviews_revealed: contract_id, review_ids, user_ids

reports
- report_filed: report_id, reporter_id, target_type, target_id
"""
