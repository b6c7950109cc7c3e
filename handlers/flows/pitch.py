"""Pitch on a job: cover letter, price, duration, optional milestones, preview, send;
"My pitches" (/pitches) to view, edit or withdraw a pending pitch.

Callback data (prefix "pitch"; STABLE — other flows link to these):

    pitch:new:<job_id>        start a pitch for a job (job cards, alerts, digests,
                              invitations, the deep link /start job_<id> card)
    pitch:show:<pitch_id>     show one pitch (its freelancer, or the job's client)
    pitch:list::<page>        "My pitches", page 1-based (pitch:list alone = page 1)

Wizard-internal (only valid inside the pitch conversation):
    pitch:cancel, pitch:back, pitch:skipms, pitch:donems, pitch:send,
    pitch:fix::<field>        from the preview: cover | price | days | ms
Pending-pitch actions (re-authorised by the use case on every press):
    pitch:edit:<pitch_id>     edit menu;  pitch:ef:<pitch_id>:<field> edit a field
    pitch:wd:<pitch_id>       ask to withdraw;  pitch:wdy:<pitch_id> confirm
"""

from __future__ import annotations

PREFIX = "pitch"
NEW = "new"  # encode(PREFIX, NEW, job_id) starts a pitch for the job
