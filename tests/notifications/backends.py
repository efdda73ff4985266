"""E-mail backends for the tests: the locmem outbox, with failures on demand."""

import smtplib
from collections import Counter

from django.core.mail.backends import locmem


class BouncingBackend(locmem.EmailBackend):
    """Refuses every mail to an address starting with "bounce"; counts attempts per address."""

    attempts: Counter = Counter()

    def send_messages(self, messages):
        for message in messages:
            for address in message.to:
                type(self).attempts[address] += 1
            refused = [a for a in message.to if a.startswith("bounce")]
            if refused:
                raise smtplib.SMTPRecipientsRefused(
                    {a: (550, b"5.1.1 mailbox unavailable") for a in refused}
                )
        return super().send_messages(messages)


class FlakyBackend(locmem.EmailBackend):
    """Loses the connection `failures_left` times, then delivers."""

    failures_left = 0

    def send_messages(self, messages):
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class BrokenBackend(locmem.EmailBackend):
    """Fails with an error that is not worth retrying (a bug, not the network)."""

    def send_messages(self, messages):
        raise ValueError("bad header")
