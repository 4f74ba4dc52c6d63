"""Coffee pairs: opt in, introductions by DM every few weeks, and "did you meet?"."""
