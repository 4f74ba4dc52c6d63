"""Onboarding: cohorts, join codes, roster matching, the welcome flow, role requests, graduation.

The database is the truth about roles; the platform is told first, with one `set_roles` call
per member, and a change is recorded once it took. Bulk changes (a matched roster, a graduating
cohort) go through the grant queue, which is paced, resumable and idempotent.
"""

from __future__ import annotations

from bot.cogs.onboarding.cohorts import CohortCommands
from bot.cogs.onboarding.graduation import Graduation
from bot.cogs.onboarding.join_flow import JoinFlow
from bot.cogs.onboarding.roles import RoleCommands


class OnboardingCog(CohortCommands, JoinFlow, RoleCommands, Graduation):
    """Every part of onboarding, loaded as one cog."""

    name = "onboarding"


__all__ = ["OnboardingCog"]
