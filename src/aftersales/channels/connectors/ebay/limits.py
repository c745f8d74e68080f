"""What eBay's Message API takes in one message (no imports: the inbox checks a draft against these
when the agent queues it, before the connector is loaded)."""

MESSAGE_MAX_CHARS = 2000  # messageText is limited to 2000 characters
MEDIA_PER_MESSAGE = 5  # at most 5 messageMedia per message
# The picture formats the Media API's createImageFromFile accepts (JPG, GIF, PNG, BMP, TIFF, AVIF, HEIC, WEBP).
REPLY_IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/gif", "image/png", "image/bmp", "image/tiff", "image/avif", "image/heic", "image/webp"}
)
REPLY_IMAGE_MAX_BYTES = 12 * 1024 * 1024  # eBay's picture policy: 12 MB per file
