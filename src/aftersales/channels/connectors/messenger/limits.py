"""Messenger's Send API limits the inbox's reply rules need (light: imported in the web process)."""

TEXT_MAX_CHARS = 2000  # Send API: "text must be UTF-8 and has a 2000 character limit"
