"""What the Meta platforms (WhatsApp Cloud API, Messenger) share: the Graph API client and webhook signatures."""
