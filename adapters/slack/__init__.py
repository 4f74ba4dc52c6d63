"""Slack adapter: slack-bolt AsyncApp, the Workspace port on the Web API, the manifest."""
