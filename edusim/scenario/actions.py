"""Each action's key in a step, and the function that does it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edusim.scenario import director_actions as director
from edusim.scenario import parent_actions as parent
from edusim.scenario import school_actions as school
from edusim.scenario.context import Context

Lines = list[str]

ACTIONS: dict[str, Callable[[Context, Any], Lines]] = {
    "admit": school.admit,
    "edit_responsable": school.edit_responsable,
    "strike_off": school.strike_off,
    "readmit": school.readmit,
    "next_day": school.next_day,
    "advance": school.advance,
    "sync": school.run_sync,
    "siecle_account": parent.siecle_account,
    "activate_sms": parent.activate_sms,
    "activate_franceconnect": parent.activate_franceconnect,
    "activate_letter": parent.activate_letter,
    "login": parent.login,
    "confirm_birth_date": parent.confirm_birth_date,
    "not_my_child": parent.not_my_child,
    "unblock": director.unblock,
    "attach_by_hand": director.attach_by_hand,
    "reset_password": director.reset_password,
    "console": director.console,
    "explain": director.explain,
}
