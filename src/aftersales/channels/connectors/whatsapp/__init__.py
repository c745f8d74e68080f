"""WhatsApp Cloud API connector."""
