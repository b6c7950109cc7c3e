"""The payment gateways (domain.ports.PaymentGateway) and their web endpoints.

- sandbox.py          the local gateway: a signed page on GIGBOT_PUBLIC_URL
- sandbox_page.py     `install_routes(app, ...)`: GET/POST /pay/<payment id>, and
                      /verify/<user id> (the sandbox's identity check, 🪪 badge)
- stripe_gateway.py   Stripe Checkout, Refunds and Connect (Express accounts, Transfers)
- stripe_webhook.py   `install_routes(app, ...)`: POST /stripe/webhook
- reconcile.py        polls Checkout Sessions still open (no public URL, lost webhooks)
- confirm.py          the single entry through which any gateway's news reaches the domain
"""
