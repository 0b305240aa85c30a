"""Log output for `serve`: lines are formatted at once and written in batches by a thread.

Writing each access line as it happens releases the GIL once per request; under load every
release means waiting to get it back, which cost a third of the throughput. Batching keeps
one write every `interval` seconds, and the buffer is flushed on exit.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class BatchingHandler(logging.Handler):
    """Format records into a buffer; a daemon thread writes the buffer every `interval` seconds."""

    def __init__(self, stream: TextIO, interval: float = 0.1, max_lines: int = 10_000) -> None:
        super().__init__()
        self.stream = stream
        self.interval = interval
        self.max_lines = max_lines
        self._lines: list[str] = []
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="mockserver-log", daemon=True)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - logging must never break a request
            self.handleError(record)
            return
        self._lines.append(line)
        if self._closed:  # after close (e.g. logging reconfigured): no thread left to write
            self.flush()
        elif len(self._lines) >= self.max_lines or record.levelno >= logging.WARNING:
            self._wake.set()

    def append(self, line: str) -> None:
        """Buffer a line that is already formatted."""
        self._lines.append(line)
        if self._closed:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered."""
        self.acquire()
        try:
            lines, self._lines = self._lines, []
            if lines:
                try:
                    self.stream.write("\n".join(lines) + "\n")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass
        finally:
            self.release()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self.flush()
        super().close()


_active: BatchingHandler | None = None
_second: tuple[int, str] = (0, "")


def _asctime(now: float) -> str:
    """Format `now` as logging's %(asctime)s does, the seconds part cached."""
    global _second
    whole = int(now)
    if _second[0] != whole:
        _second = (whole, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(whole)))
    return f"{_second[1]},{int((now - whole) * 1000):03d}"


def info(logger: logging.Logger, message: str) -> None:
    """Log `message` at INFO, straight into the batching buffer when that is where it would go.

    The access log writes a line per request; the logging module's record, caller lookup and
    handler dispatch cost more than a fast request's own work. The line is the same.
    """
    handler = _active
    if handler is not None and not logger.handlers and logger.propagate:
        handler.append(f"{_asctime(time.time())} INFO {logger.name}: {message}")
    else:
        logger.info(message)


def configure(level: str, stream: TextIO) -> None:
    """Send every log record at `level` or above to `stream`, batched."""
    global _active
    handler = BatchingHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    for old in root.handlers:
        old.close()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    _active = handler
