"""Text every backend can store."""


def storable(text: str) -> bool:
    """Whether every backend can store `text`: no NUL and no lone surrogate (neither is text in UTF-8 or in
    PostgreSQL)."""
    return "\x00" not in text and not any("\ud800" <= ch <= "\udfff" for ch in text)
