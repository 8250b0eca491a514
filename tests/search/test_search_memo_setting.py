"""SEARCH_MEMO_POSTINGS bounds what a searcher keeps in memory."""
import pytest

from portal.search import docsets, get_store


@pytest.fixture
def app_config(monkeypatch):
    monkeypatch.setattr(docsets, "CACHE_POSTINGS", docsets.CACHE_POSTINGS)  # put back after the test
    return {"SEARCH_MEMO_POSTINGS": 12345}


def test_the_memo_keeps_what_the_setting_allows(app):
    searcher = get_store(app).searcher()
    assert docsets.docsets(searcher)._memo.limit == 12345
