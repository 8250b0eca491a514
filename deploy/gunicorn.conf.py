"""Gunicorn settings for the portal: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Every value can be changed without editing this file through the environment (the systemd unit reads
/etc/csd-portal/portal.env): GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_TIMEOUT, GUNICORN_ACCESS_LOG,
GUNICORN_ERROR_LOG, GUNICORN_FULL_COLLECTION_EVERY.
"""
import multiprocessing
import os

# nginx in front talks to this address; never expose it beyond the machine.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Synchronous workers: nginx buffers requests and responses, so a slow client never holds a worker.
# Two per CPU plus one, at most 9: each worker keeps its own search memo (up to about 350 MB with the
# default SEARCH_MEMO_POSTINGS), so on a small machine lower GUNICORN_WORKERS before adding memory.
workers = int(os.environ.get("GUNICORN_WORKERS") or min(multiprocessing.cpu_count() * 2 + 1, 9))
worker_class = "sync"

# A PDF with CJK fonts or an upload of MAX_UPLOAD_MB can take several seconds; nothing takes two
# minutes. nginx's proxy_read_timeout (deploy/nginx/csd-portal.conf) is set just above this.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)
graceful_timeout = 30
keepalive = 5

# Recycle workers now and then so memory held by one unusual request is given back.
max_requests = 2000
max_requests_jitter = 200

# The garbage collector's full passes walk every object a worker holds beyond what it froze at start (the
# search memo's postings, SQLAlchemy's and Jinja's caches: about 100,000 objects after a few minutes). Left
# to itself it ran one every 10-20 s per worker in the load test's busy minute, 40-120 ms in the middle of
# whichever request was being served. A worker runs them itself instead, after a response has gone out, every
# FULL_COLLECTION_EVERY requests (post_request); the young generations are still collected as usual.
FULL_COLLECTION_EVERY = int(os.environ.get("GUNICORN_FULL_COLLECTION_EVERY") or 200)

# Not preloaded: each worker opens its own database connections and search index after the fork.
preload_app = False

# nginx on this machine sets X-Forwarded-Proto / X-Forwarded-For; trust them from it only.
forwarded_allow_ips = "127.0.0.1,::1"

# Logs go to standard output/error, which systemd keeps in the journal:
#   journalctl -u csd-portal            (access and error log)
# Set GUNICORN_ACCESS_LOG=/var/log/csd-portal/access.log to write a file instead.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = "info"
# client address (from nginx), time, request line, status, bytes, duration in ms, referrer, agent
access_log_format = '%({x-forwarded-for}i)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'

proc_name = "csd-portal"
# Gunicorn 24+ opens a control socket in the user's home by default; the unit reloads with HUP and the
# home folder is read-only under systemd's ProtectHome, so it stays off (older versions ignore this).
control_socket_disable = True


def post_worker_init(worker):
    """Compile the templates, load the PDF fonts and read the search index's common parts before the worker
    takes requests: a worker's first pages, PDFs and searches are otherwise slow (a new worker's first inquiry
    page took 650 ms instead of 27, its first search about a second with five years of records). Then set aside
    what the worker has loaded from the garbage collector's full passes (``gc.freeze``): the modules, templates
    and fonts live as long as the worker, and each full pass walked all of them again (about 400,000 objects,
    200-350 ms a pass, one pass every 100-200 requests), and leave the full passes to ``post_request``."""
    import gc

    from portal import pdf, search
    from portal.web import compile_templates

    templates = compile_templates(worker.wsgi)
    for what, warm_up in (("PDF", pdf.warm_up), ("search", search.warm_up)):
        try:
            with worker.wsgi.app_context():
                warm_up()
        except Exception:  # noqa: BLE001  (a worker that cannot print or search still serves every other page)
            worker.log.exception("%s warm-up failed", what)
    gc.collect()
    gc.freeze()
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, NO_AUTOMATIC_FULL_COLLECTION)
    worker.log.info("Worker ready (pid: %s, %d templates compiled)", os.getpid(), templates)


# The third threshold counts the collections of the middle generation between two full passes: never reached.
NO_AUTOMATIC_FULL_COLLECTION = 1_000_000_000


def post_request(worker, req, environ, resp):
    """A full garbage collection every FULL_COLLECTION_EVERY requests, once the response has been written: the
    automatic ones are off (post_worker_init), so none falls in the middle of a request."""
    if worker.nr % FULL_COLLECTION_EVERY == 0:
        import gc

        gc.collect()

