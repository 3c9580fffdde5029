"""The jury: rounds, criteria, jurors, conflicts, assignments and reviews."""
