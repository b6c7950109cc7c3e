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
- "dsp" flows/disputes.py   ("dsp:open:<milestone>" open one, "dsp:view:<dispute>" its card)
- "rv"  flows/reviews.py    ("rv:rate:<contract>" rate the other party)
- "report" flows/reports.py ("report:job_post:<job>" / "report:user:<user>" report it)
- "adm" flows/admin.py     ("adm:evidence:<dispute>" a dispute's evidence, "adm:report:<report>")
- "open"  flows/start.py    ("open:show_job:<job>" a job's card)
- "pitch" flows/pitch.py    ("pitch:start:<job>" pitch on a job)
- "br"  flows/browse.py     ("br:show_job:<job>" a job's card under the search)
- "mj"  flows/my_jobs.py    ("mj:manage_job:<job>" the owner's card, "mj:view_pitch:<pitch>")
- "pj"  flows/post_job.py   ("pj:edit:<job>" edit a posted job)
- "prof" flows/profile.py   ("prof:card:<user>" a profile card)
- "blk" flows/blocking.py   ("blk:block:<user>" block someone, after a confirmation)
- "vf"  flows/verification.py ("vf:start" the gateway's identity check)
- "bn"  flows/bonus.py      ("bn:start:<contract>" a bonus, "bn:partial:<milestone>" release part)
- "mp"  flows/proposals.py  ("mp:accept:<milestone>" / "mp:decline:<milestone>" a milestone proposed later)
- "jx"  flows/job_expiry.py ("jx:keep:<job>" / "jx:close:<job>": "Still hiring?")
- "tal" flows/talent.py     ("tal:show:<user>" a freelancer's card with Invite and Message)
- "av"  flows/availability.py ("av:menu" set available / busy / away)
- "sv"  flows/saved.py      ("sv:save_freelancer:<user>" / "sv:save_job:<job>" save for later,
                            "sv:rehire:<contract>" 🔁 Hire again)
- "svc" flows/services.py   ("svc:manage:<service>" the seller's own service card, /services)
- "cat" flows/catalog.py    ("cat:show:<service>" a service card in the catalogue)
- "ord" flows/service_orders.py ("ord:buy:<service>:<tier>" buy a package, "ord:view:<order>")
"""

from __future__ import annotations

from handlers.routing import Buttons

CONTRACT, OFFER, FUND, WORK = Buttons("ct"), Buttons("of"), Buttons("fd"), Buttons("wk")
BALANCE, MESSAGE, DISPUTE, REVIEW = Buttons("bal"), Buttons("msg"), Buttons("dsp"), Buttons("rv")
OPEN, PITCH = Buttons("open"), Buttons("pitch")
BROWSE, MY_JOBS, POST_JOB, PROFILE = Buttons("br"), Buttons("mj"), Buttons("pj"), Buttons("prof")
REPORT, ADMIN = Buttons("report"), Buttons("adm")
BLOCK = Buttons("blk")
VERIFY = Buttons("vf")
BONUS, JOB_END, PROPOSAL = Buttons("bn"), Buttons("jx"), Buttons("mp")
TALENT, AVAILABILITY = Buttons("tal"), Buttons("av")
SAVED = Buttons("sv")
SERVICE, CATALOG, ORDER = Buttons("svc"), Buttons("cat"), Buttons("ord")
