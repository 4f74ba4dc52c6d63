"""Onboarding: cohorts, join codes, roster matching, the welcome flow, role requests, graduation.

The database is the truth about roles; the platform is told first, with one `set_roles` call
per member, and a change is recorded once it took. Bulk changes (a matched roster, a graduating
cohort) go through the grant queue, which is paced, resumable and idempotent.
"""
