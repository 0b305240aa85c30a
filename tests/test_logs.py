"""Batched log output: every line arrives, in order, and nothing is lost at close."""

from __future__ import annotations

import io
import logging

from mockserver.serving.logs import BatchingHandler


def test_batching_handler__writes_every_line_in_order_on_flush_and_close():
    stream = io.StringIO()
    handler = BatchingHandler(stream, interval=3600)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("mockserver.test-batching")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for n in range(5):
            logger.info("line %d", n)
        assert stream.getvalue() == ""  # nothing written per line
        handler.flush()
        assert stream.getvalue() == "".join(f"line {n}\n" for n in range(5))
        logger.info("last")
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert stream.getvalue().endswith("line 4\nlast\n")


def test_info__goes_straight_to_the_batching_buffer_in_the_logging_format(monkeypatch):
    import re

    from mockserver.serving import logs

    stream = io.StringIO()
    handler = BatchingHandler(stream, interval=3600)
    monkeypatch.setattr(logs, "_active", handler)
    try:
        logs.info(logging.getLogger("mockserver.access"), 'x "GET /" 200 0.1ms')
        handler.flush()
    finally:
        handler.close()
    assert re.fullmatch(
        r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO mockserver.access: x "GET /" 200 0.1ms\n', stream.getvalue()
    )


def test_info__without_the_batching_handler_uses_logging(caplog):
    from mockserver.serving import logs

    caplog.set_level(logging.INFO, logger="mockserver.access")
    logs.info(logging.getLogger("mockserver.access"), "through logging")
    assert [r.getMessage() for r in caplog.records] == ["through logging"]
