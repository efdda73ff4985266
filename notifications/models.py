"""In-app notifications and each user's e-mail preference.

A notification is written once (by `services.notify` / `notify_bulk`), read in the inbox and
mailed either on its own (immediate mode) or in the next daily digest. `dedupe_key` makes a
notification an at-most-once fact per recipient: a higher module may announce the same event
again (a rerun sweep, a retried task) and nothing new is written or mailed.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", _("Immediately, one e-mail per notification")
    DIGEST = "digest", _("Daily digest, one e-mail a day")
    NONE = "none", _("No e-mail, in-app only")


class Notification(models.Model):
    class EmailStatus(models.TextChoices):
        READY = "ready", _("Ready to send")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        # digest mode (the digest mails it later), no e-mail wanted, or no address
        SKIPPED = "skipped", _("Not sent on its own")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=64)
    # loose reference to what the notification is about ("cases.outfall", "12"), no GFK
    subject_type = models.CharField(_("subject type"), max_length=100, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=64, blank=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    dedupe_key = models.CharField(_("de-duplication key"), max_length=200)
    email_status = models.CharField(
        _("e-mail status"),
        max_length=16,
        choices=EmailStatus.choices,
        default=EmailStatus.READY,
    )
    email_attempts = models.PositiveSmallIntegerField(_("e-mail attempts"), default=0)
    email_error = models.TextField(_("e-mail error"), blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    digested_at = models.DateTimeField(_("digested at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notification_recipient_dedupe_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_recipient_read"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class NotificationPreference(models.Model):
    """How a user wants notifications mailed; a user without a row gets immediate mail."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    email_mode = models.CharField(
        _("e-mail"), max_length=16, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )
    # when email_mode last changed: a digest gathers only what arrived in digest mode
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return f"{self.user}: {self.get_email_mode_display()}"
