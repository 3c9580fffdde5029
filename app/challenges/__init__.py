"""Challenges: the urban problems that cities and partners publish, with their terms, Q&A and change log.

Code is imported as `app.challenges`; the top-level `challenges/` folder holds programmes as files.
"""
