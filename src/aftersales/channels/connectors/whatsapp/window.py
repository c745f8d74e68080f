"""WhatsApp's customer-service window: free-form messages for 24 hours after the buyer's last message;
after that only approved templates (the window itself: meta/window.py, shared with Messenger)."""

from __future__ import annotations

from ..meta.window import STANDARD_WINDOW as SERVICE_WINDOW
from ..meta.window import window_closes_at, window_open

TEXT_MAX_CHARS = 4096  # text.body: "Maximum 4096 characters"

__all__ = ["SERVICE_WINDOW", "TEXT_MAX_CHARS", "window_closes_at", "window_open"]
