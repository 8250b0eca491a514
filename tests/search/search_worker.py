"""A second process for the multi-process search tests (run with the test's configuration as JSON).

    python search_worker.py CONFIG_JSON save PREFIX N [DELAY]   save N test documents, one commit each
    python search_worker.py CONFIG_JSON save-and-die TITLE      commit, then get SIGKILLed before the index write
    python search_worker.py CONFIG_JSON hold-writer SECONDS     hold the index writer lock
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    action = argv[2]
    if action == "hold-writer":
        from whoosh import index

        gen = Path(config["SEARCH_INDEX_DIR"]) / (Path(config["SEARCH_INDEX_DIR"]) / "CURRENT").read_text().strip()
        writer = index.open_dir(str(gen)).writer()
        print("ready", flush=True)
        time.sleep(float(argv[3]))
        writer.cancel()
        return

    import searchkit  # beside this script: its folder is the first on the path of a script run

    from portal import create_app
    from portal.extensions import db

    app = create_app(config)
    searchkit.register()
    with app.app_context():
        if action == "save":
            prefix, count = argv[3], int(argv[4])
            delay = float(argv[5]) if len(argv) > 5 else 0.0
            for i in range(count):
                db.session.add(searchkit.Doc(title=f"{prefix} {i}", body=f"{prefix} body {i}"))
                db.session.commit()
                if delay:
                    time.sleep(delay)
            print("done", flush=True)
        elif action == "save-and-die":
            from portal.search.store import IndexStore

            def die(self, *args, **kwargs):
                os.kill(os.getpid(), signal.SIGKILL)

            IndexStore.sync = die
            db.session.add(searchkit.Doc(title=argv[3], body="killed before the index write"))
            db.session.commit()
            print("survived", flush=True)


if __name__ == "__main__":
    main(sys.argv)
