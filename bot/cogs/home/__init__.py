"""Home: what a member sees on their own page (Slack's App Home, `!show home` locally)."""
