"""SQLite storage of runners, sessions, keypoints, analyses and evidence frames."""

from device.store.db import NotFoundError, Store, spool_files, utc_now
from device.store.writer import KeypointWriter

__all__ = ["KeypointWriter", "NotFoundError", "Store", "spool_files", "utc_now"]
