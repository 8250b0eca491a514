"""SEARCH_MEMO_POSTINGS bounds what a searcher keeps in memory."""
import pytest

from portal.search import docsets


@pytest.fixture
def app_config(monkeypatch):
    monkeypatch.setattr(docsets, "CACHE_POSTINGS", docsets.CACHE_POSTINGS)  # put back after the test
    return {"SEARCH_MEMO_POSTINGS": 12345}


def test_the_memo_keeps_what_the_setting_allows(app):
    assert docsets.CACHE_POSTINGS == 12345
