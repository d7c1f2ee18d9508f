"""Sending the outbox's e-mail: an SMTP mailer behind the ``Mailer`` port."""

from migrationkit.adapters.mail.smtp import SmtpMailer

__all__ = ["SmtpMailer"]
