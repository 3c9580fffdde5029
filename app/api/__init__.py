"""The JSON face: /api/v1, bearer tokens, RFC 9457 problem details, cursor pagination."""
