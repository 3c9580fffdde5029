"""Proposals: what startups submit to challenges, their versions, attachments and eligibility."""
