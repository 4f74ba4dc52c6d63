"""Listings: post forms, cards with threads, closing and editing, expiry and reminders."""
