"""Searchers live per thread while a request runs and go back to a pool when it ends, so a server that
runs each request in a thread of its own (the development server, the browser tests' live server) keeps
as many searchers as requests run at once, not one more open index per request."""
import os
import threading

from searchkit import in_a_thread

from portal.search import get_store, store as store_module


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_requests_in_threads_of_their_own_share_one_searcher(client, login, add_doc):
    login("csr")
    add_doc("Heating coil leak", "The heating coil of tank T-101 leaked.")
    store = get_store(client.application)

    def search():
        response = client.get("/search/?q=heating+coil")
        assert response.status_code == 200 and "Heating coil leak" in response.get_data(as_text=True)

    in_a_thread(search)
    files, searchers = _open_files(), len(store._open_searchers)
    for _ in range(25):
        in_a_thread(search)
    # the requests' threads share one; the test's own thread, which saved, reads through another
    assert len(store._open_searchers) == searchers <= 2
    assert _open_files() <= files
    add_doc("Heating coil renewed", "A new heating coil for tank T-101.")  # a save: the pooled searcher renews
    assert in_a_thread(lambda: client.get("/search/?q=renewed")).status_code == 200
    assert "Heating coil renewed" in client.get("/search/?q=renewed").get_data(as_text=True)
    assert len(store._open_searchers) == searchers


def test_threads_searching_at_once_each_have_their_own_and_the_pool_is_bounded(app, add_doc, monkeypatch):
    add_doc("Ullage report", "ullage")
    store = get_store(app)
    monkeypatch.setattr(store_module, "IDLE_SEARCHERS", 2)
    count = 4
    all_in, done = threading.Barrier(count), threading.Event()
    held = []

    def hold():
        held.append(store.searcher())
        all_in.wait()  # every thread holds one at the same time
        done.wait()
        store.release()

    threads = [threading.Thread(target=hold) for _ in range(count)]
    for thread in threads:
        thread.start()
    while len(held) < count:  # every thread has taken one
        threading.Event().wait(0.01)
    assert len({id(s) for s in held}) == count  # never shared while in use
    done.set()
    for thread in threads:
        thread.join()
    assert len(store._idle) == 2  # the pool keeps two; the other two were closed
    kept = {id(s) for _ix, _gen, s in store._idle}
    assert in_a_thread(lambda: id(store.searcher())) in kept
    assert sum(1 for s in held if s.is_closed) == 2


def test_a_save_finds_what_it_replaces_through_the_open_searcher(app, add_doc, monkeypatch):
    """Whoosh's update_document and delete_by_term open a reader of every segment for each document: a
    save reads through the thread's searcher instead, renewed to the commit the writer starts from."""
    from whoosh.writing import SegmentWriter

    from portal.extensions import db

    for n in range(4):
        add_doc(f"Ullage report {n}", "ullage")
    opened = []
    real = SegmentWriter.searcher
    monkeypatch.setattr(SegmentWriter, "searcher", lambda self, **kw: opened.append(1) or real(self, **kw))
    doc = add_doc("Ullage report 9", "ullage")
    doc.title = "Ullage survey 9"
    db.session.commit()
    db.session.delete(doc)
    db.session.commit()
    assert not opened
    store = get_store(app)
    titles = [fields.get("title") for fields in store.searcher().documents(kind="testdoc")]
    assert sorted(titles) == [f"Ullage report {n}" for n in range(4)]  # added, replaced, deleted: no version left
