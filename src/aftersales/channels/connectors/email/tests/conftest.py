"""The e-mail connector's tests get the session's dovecot IMAP server (aftersales.testing.dovecot)."""

from aftersales.testing.dovecot import dovecot  # noqa: F401 - a pytest fixture, registered by import
