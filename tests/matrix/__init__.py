"""Permission-matrix entries per domain: each module defines ENTRIES (and may define extend_world)."""
