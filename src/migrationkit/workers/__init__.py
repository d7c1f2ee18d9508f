"""What runs the jobs: the entrypoints of the engine, above the adapters.

``jobs`` holds the functions that RQ workers run by their dotted paths and the
``WorkerContext`` they run with; ``rq_worker`` the RQ worker that ``migrationkit worker``
runs; ``inprocess`` the embedded queue whose worker is a thread of the same process. They
call the services (the engine, the sweeper) with the adapters that the wiring chose; the
services never import them.
"""
