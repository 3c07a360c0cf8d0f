"""Configuring the logs twice in one process (the command line run in-process after the app) leaves every logger
on the one configured chain: a logger cached on its first use still reaches what the chain holds now."""

import secrets

from structlog.testing import capture_logs

from api.core.logging import configure_logging, get_logger


def test_a_logger_cached_before_a_second_configuration_follows_the_chain():
    log = get_logger(f"tests.cached_{secrets.token_hex(4)}")
    configure_logging("INFO")
    log.info("first_use")  # cached here, on the chain configured above
    configure_logging("INFO")
    with capture_logs() as logs:
        log.info("after_the_second_configuration")
    assert [line["event"] for line in logs] == ["after_the_second_configuration"]
