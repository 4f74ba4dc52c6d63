"""Onboarding, loaded as one cog."""

from __future__ import annotations

from bot.cogs.onboarding.cohorts import CohortCommands
from bot.cogs.onboarding.graduation import Graduation
from bot.cogs.onboarding.join_flow import JoinFlow
from bot.cogs.onboarding.roles import RoleCommands


class OnboardingCog(CohortCommands, JoinFlow, RoleCommands, Graduation):
    """Every part of onboarding, loaded as one cog."""

    name = "onboarding"
