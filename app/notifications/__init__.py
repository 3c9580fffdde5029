"""Email notifications: an outbox table, delivered through SMTP when configured."""
