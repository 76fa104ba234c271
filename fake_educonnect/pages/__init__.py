"""The fake EduConnect's pages (French): the parent side, the director console, the outbox.

Importing the modules registers their routes on the shared router; ``pages`` goes to
``create_service_app(pages=...)``.
"""

from __future__ import annotations

from fake_educonnect.pages import account, activation, console, outbox, parent, selfservice
from fake_educonnect.pages.common import pages

__all__ = ["account", "activation", "console", "outbox", "pages", "parent", "selfservice"]
