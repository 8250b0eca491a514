"""The operations register is reachable from the top bar and its index page shows the register's figures."""
from __future__ import annotations


def test_index_in_top_bar(client, login):
    login("csr")
    page = client.get("/operations/").get_data(as_text=True)
    assert 'href="/operations/"' in page
    assert "Open orders" in page
