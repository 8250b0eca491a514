import gc

from portal import create_app

app = create_app()
# What was loaded to start (modules, models, the app itself) lives as long as the process: keep it out
# of the cycle collector's full collections, which otherwise walk all of it each time (about 50 ms of
# a search request that happens to trigger one).
gc.freeze()
