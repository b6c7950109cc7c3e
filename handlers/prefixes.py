"""The callback-data prefixes of the flows that link to each other's buttons
(handlers/callbacks.py: "prefix:action[:id[:arg]]"), in one place, so that any
flow can build another's button without importing it (and without circular
imports). Each prefix belongs to one flow module, which handles its presses.

- "ct"  flows/contracts.py  ("ct:view:<contract>" a contract's card)
- "of"  flows/offers.py
- "fd"  flows/funding.py    ("fd:quote:<milestone>" the funding quote)
- "wk"  flows/work.py
- "bal" flows/balance.py
- "msg" flows/messaging.py  ("msg:write:<contract>" write to the other party)
- "dsp" flows/disputes.py   ("dsp:new:<milestone>" open one, "dsp:v:<dispute>" its card)
- "rv"  flows/reviews.py    ("rv:rate:<contract>" rate the other party)
- "report" flows/reports.py ("report:job_post:<job>" / "report:user:<user>" report it)
- "open"  flows/start.py    ("open:show_job:<job>" a job's card)
- "pitch" flows/pitch.py    (a freelancer's pitches for a job)
"""

from __future__ import annotations

from handlers.routing import Buttons

CONTRACT, OFFER, FUND, WORK = Buttons("ct"), Buttons("of"), Buttons("fd"), Buttons("wk")
BALANCE, MESSAGE, DISPUTE, REVIEW = Buttons("bal"), Buttons("msg"), Buttons("dsp"), Buttons("rv")
OPEN, PITCH = Buttons("open"), Buttons("pitch")
REPORT = Buttons("report")
