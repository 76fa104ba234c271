"""The fake ONDE's pages, in French: the director's school, pupils, admissions, responsables.

Logging in is simulated: the director picks their school from the list, which stands for the real
ENT/ARENA authentication; the cookie then holds that school's director token, and every page is
scoped to that school.
"""

from __future__ import annotations

from fake_onde.pages import pupil, responsable, school
from fake_onde.pages.common import pages

__all__ = ["pages", "pupil", "responsable", "school"]
