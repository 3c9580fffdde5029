"""Pages built from several domains (the home page): they sit above the domains and call their services,
which keep their permission checks; no domain imports this package."""
