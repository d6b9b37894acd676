"""SQLite storage of runners, sessions, keypoints, analyses and evidence frames."""

from device.store.db import NotFoundError, PrintJobPurger, Store, spool_files, utc_now
from device.store.writer import KeypointWriter

__all__ = ["KeypointWriter", "NotFoundError", "PrintJobPurger", "Store", "spool_files", "utc_now"]
