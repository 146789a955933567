"""SQLite backend that queues write transactions of one process on a Python lock.

SQLite allows one writer. When threads of the same process collide, SQLite's busy handler
sleeps in growing steps (1, 2, 5, 10 … 100 ms) even if the lock frees a moment later; waiting on
a Python lock instead wakes the next writer at once. Other processes still meet the busy timeout.
"""
