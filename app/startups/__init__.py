"""Startups: their profile (legal form, founding year, team, sectors, logo), shown with their proposals."""
