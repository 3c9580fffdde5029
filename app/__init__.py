"""Medina: an open-innovation challenge platform for cities."""
