"""The memo: results by content key, bounded per kind, made once when asked twice at the same time."""

import threading

import pytest

from geo_service.memo import Memo


def test_a_result_is_made_once_and_found_by_its_key():
    memo, made = Memo(), []
    for _ in range(3):
        assert memo.get("kind", ("boundaries-v1", 10.0), lambda: made.append(1) or "value") == "value"
    assert made == [1]
    assert memo.get("kind", ("boundaries-v2", 10.0), lambda: "other") == "other"  # another content, another entry
    assert memo.peek("kind", ("boundaries-v1", 10.0)) == "value"
    assert memo.peek("other kind", ("boundaries-v1", 10.0)) is None


def test_each_kind_keeps_at_most_its_bound_least_recently_used_out():
    memo = Memo(limits={"small": 2})
    memo.get("small", "a", lambda: 1)
    memo.get("small", "b", lambda: 2)
    memo.get("small", "a", lambda: 0)  # used again: "b" is now the oldest
    memo.get("small", "c", lambda: 3)
    assert [key for key, _ in memo.entries("small")] == ["a", "c"]
    assert memo.sizes() == {"small": 2}


def test_a_failed_make_keeps_nothing_and_the_next_call_makes_it_again():
    memo = Memo()

    def fail():
        raise ValueError("no")

    with pytest.raises(ValueError):
        memo.get("kind", "key", fail)
    assert memo.peek("kind", "key") is None
    assert memo.get("kind", "key", lambda: 5) == 5


def test_threads_asking_for_the_same_missing_entry_get_one_result():
    # whatever order the threads run in, the entry is made once and every thread gets that one object
    memo, made, results = Memo(), [], []
    start = threading.Barrier(8)

    def make():
        made.append(1)
        return object()

    def ask():
        start.wait()
        results.append(memo.get("kind", "key", make))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert len({id(result) for result in results}) == 1


def test_a_shared_object_is_made_once_for_the_memo():
    memo = Memo()
    first = memo.shared("tile bytes", dict)
    assert memo.shared("tile bytes", lambda: pytest.fail("made twice")) is first
