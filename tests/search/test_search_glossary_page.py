"""Editors maintain the glossary (the search's synonyms) in the knowledge base, and import and export it
as CSV; a change is searched at once, without a rebuild."""
import io

from portal import search


def test_editors_import_and_export_the_glossary_and_search_uses_it_at_once(client, login, add_doc, make_user):
    doc = add_doc("沥青装车", "沥青储罐加热")
    reader = make_user("reader", "staff")
    assert search.search("bitumen", user=reader).total == 0
    login("csr")
    csv_data = "english,chinese,abbreviations,note\nbitumen; asphalt,沥青,,road binder\n".encode()
    response = client.post("/knowledge/glossary/terms/import",
                           data={"csv-file": (io.BytesIO(csv_data), "glossary.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get("/knowledge/glossary/terms").get_data(as_text=True)
    assert "bitumen; asphalt" in page and "沥青" in page
    exported = client.get("/knowledge/glossary/terms.csv")
    assert exported.status_code == 200 and "沥青" in exported.get_data(as_text=True)
    found = search.search("asphalt", user=reader)
    assert [h.id for h in found.hits] == [doc.id] and found.also_searched == ["bitumen", "沥青"]
    assert search.search("asphalt", user=reader, expand=False).total == 0


def test_a_bad_glossary_file_is_refused_and_changes_nothing(client, login):
    login("csr")
    client.post("/knowledge/glossary/terms", data={"entry-english": "ullage", "entry-chinese": "空高; 空距"})
    response = client.post("/knowledge/glossary/terms/import",
                           data={"csv-file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")}, content_type="multipart/form-data")
    assert response.status_code == 200 and "header" in response.get_data(as_text=True)
    assert "空距" in client.get("/knowledge/glossary/terms").get_data(as_text=True)


def test_only_editors_change_the_glossary(client, login):
    login("staff")
    assert client.get("/knowledge/glossary/terms").status_code == 200
    assert client.post("/knowledge/glossary/terms", data={"entry-english": "x", "entry-chinese": "叉"}).status_code == 403
    response = client.post("/knowledge/glossary/terms/import",
                           data={"csv-file": (io.BytesIO(b"english,chinese\nx,y\n"), "x.csv")},
                           content_type="multipart/form-data")
    assert response.status_code in (302, 403) and "叉" not in client.get("/knowledge/glossary/terms").get_data(as_text=True)
