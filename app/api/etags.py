"""ETags and If-Match for records that several people edit: the tag names the record and its revision."""

from app.validation import whole_number


def etag(prefix: str, record_id: int | None, revision: int) -> str:
    return f'"{prefix}{record_id}-{revision}"'


def revision_from(if_match: str | None, prefix: str, record_id: int | None) -> int | None:
    """The revision the client edited, from If-Match (None when absent or `*`); a tag for another record, or
    one we cannot read, is stale (-1)."""
    if if_match is None or if_match.strip() == "*":
        return None
    for tag in if_match.split(","):
        tag = tag.strip().removeprefix("W/").strip('"')
        if not tag.startswith(prefix):
            continue
        tagged_id, _, revision = tag.removeprefix(prefix).partition("-")
        number = whole_number(revision, max_digits=9)
        if tagged_id == str(record_id) and number is not None:
            return number
    return -1
