"""The three state readers (phone, laptop, services) take queries of one shape: pydantic
models told apart by ``kind``, built from a task file's mapping or typed in code, and a
malformed one is a clear input error naming the query, not a TypeError from deep inside."""

from __future__ import annotations

import pytest

from emulator import readers as android
from emulator.errors import AndroidInputError
from linux_vm import readers as linux
from linux_vm.errors import LinuxInputError


def test_android_queries_parse_from_mappings_like_the_linux_ones():
    q = android.parse_query({"kind": "provider", "uri": "content://sms", "projection": ["body"]})
    assert isinstance(q, android.ProviderQuery) and q.projection == ["body"] and q.where is None
    assert android.parse_query({"kind": "ui"}) == android.UiQuery()
    assert android.parse_query(q) is q
    same = linux.parse_query({"kind": "file", "path": "~/a"})
    assert android.parse_query({"kind": "file", "path": "~/a"}).model_dump() == same.model_dump()


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"kind": "sms"}, "sms"),
        ({"kind": "file"}, "path"),
        ({"kind": "file", "path": "/a", "mode": 1}, "mode"),
        ({"path": "/a"}, "kind"),
        ("file", "mapping"),
    ],
)
def test_a_malformed_android_query_is_an_input_error(query, says):
    with pytest.raises(AndroidInputError, match=says):
        android.parse_query(query)


def test_a_malformed_linux_query_is_an_input_error():
    with pytest.raises(LinuxInputError, match="path"):
        linux.parse_query({"kind": "file"})


def test_the_shared_kinds_are_one_type_that_either_layer_takes_typed():
    for name in ("FileQuery", "HashQuery", "TreeHashQuery", "CommandQuery"):
        assert getattr(android, name) is getattr(linux, name), name
    q = linux.CommandQuery(command="true")
    assert android.parse_query(q) is q
    with pytest.raises(AndroidInputError, match="unknown state query"):
        android.read_state(None, linux.DirQuery(path="/"))  # another layer's own kind
