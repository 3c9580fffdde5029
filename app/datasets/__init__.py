"""Datasets that sponsors share with a challenge: versioned files, schema, data dictionary, previews."""
