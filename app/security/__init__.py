"""Passwords, sessions, CSRF, API tokens, rate limits and security headers."""
