from domain import errors
from entrypoints.errors import STATUS


def subclasses(cls):  # type: ignore[no-untyped-def]
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)


def test_every_refusal_has_a_status_and_a_code():
    missing = [cls.__name__ for cls in subclasses(errors.ShopError) if cls not in STATUS]
    assert missing == []


def test_refusals_are_4xx_and_codes_are_unique():
    assert all(400 <= status < 500 for status, _ in STATUS.values())
    codes = [code for _, code in STATUS.values()]
    assert len(codes) == len(set(codes))
