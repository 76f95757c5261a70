"""Which failures a retry can heal, and failing at once on the others.

Airflow retries a failed task minutes later. That heals a source or a warehouse that was briefly down,
busy or rate-limiting, and nothing else: an undefined function, a failing query, a contract violation or
a bad configuration fails the same way every time, so those tasks fail at once with their message.
"""
from __future__ import annotations

import functools
import socket
from collections.abc import Callable
from typing import TypeVar

import psycopg2
import requests
from airflow.sdk import RetryDecision, RetryPolicy
from airflow.sdk.exceptions import AirflowException, AirflowFailException

# SQLSTATEs (PostgreSQL, Appendix A) that a later attempt can get past
TRANSIENT_SQLSTATE_CLASSES = {
    "08",  # connection exception
    "53",  # insufficient resources: too many connections, out of memory, disk full
}
TRANSIENT_SQLSTATES = {
    "57P01", "57P02", "57P03",  # admin shutdown, crash shutdown, cannot connect now (starting up, recovering)
    "40001", "40P01",  # serialization failure, deadlock
    "55P03",  # lock not available (lock_timeout): the other transaction ends
}

F = TypeVar("F", bound=Callable)


def is_transient_status(status: int) -> bool:
    """An HTTP status worth asking again: rate limited, or the server's own trouble."""
    return status == 429 or status >= 500


def is_transient(exc: BaseException) -> bool:
    """Whether retrying what raised ``exc`` later could succeed. Unknown errors are not: they fail at once."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        verdict = _verdict(exc)
        if verdict is not None:
            return verdict
        exc = exc.__cause__  # an error raised `from` another is judged by the other
    return False


def _verdict(exc: BaseException) -> bool | None:
    """True or False when ``exc`` itself decides, None to look at its cause."""
    if isinstance(exc, AirflowFailException):
        return False
    declared = getattr(exc, "transient", None)  # our own errors say so (hcp.http_api.SourceError, ...)
    if isinstance(declared, bool):
        return declared
    if isinstance(exc, psycopg2.Error):
        return _psycopg2_verdict(exc)
    orig = getattr(exc, "orig", None)  # SQLAlchemy (GX) wraps the driver's error
    if isinstance(orig, BaseException):
        return is_transient(orig)
    if isinstance(exc, requests.RequestException):
        return _requests_verdict(exc)
    if _is_sqlalchemy_disconnect(exc):
        return True
    if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout)):  # refused, reset, broken pipe
        return True
    return None


def _psycopg2_verdict(exc: psycopg2.Error) -> bool:
    code = exc.pgcode
    if code is None:
        # no SQLSTATE: libpq's own failure to connect or to keep the connection (refused, reset, timed out)
        return isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError))
    return code in TRANSIENT_SQLSTATES or code[:2] in TRANSIENT_SQLSTATE_CLASSES


def _requests_verdict(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.exceptions.SSLError):
        return False  # a certificate or CA bundle that does not match stays that way
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)):
        return True
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return is_transient_status(exc.response.status_code)
    return False


def _is_sqlalchemy_disconnect(exc: BaseException) -> bool:
    try:
        from sqlalchemy import exc as sa_exc
    except ImportError:  # pragma: no cover - installed with Airflow
        return False
    return isinstance(exc, (sa_exc.DisconnectionError, sa_exc.TimeoutError))


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def fail_unless_transient(func: F) -> F:
    """Run a task's work; an error no retry can heal becomes AirflowFailException (chained), so Airflow fails the
    task at once instead of retrying it for minutes. Transient errors go up as they are, to be retried."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except AirflowException:
            raise  # Airflow's own decisions (fail, skip, defer) stand
        except Exception as exc:
            if is_transient(exc):
                raise
            raise AirflowFailException(f"{describe(exc)} (not retried: a retry would fail the same way)") from exc

    return run  # type: ignore[return-value]


class RetryOnlyTransient(RetryPolicy):
    """hcp_nightly's default: whatever a task raised, Airflow retries it only when a retry can heal it. Covers
    what runs outside the functions fail_unless_transient wraps (the DAG's task code itself)."""

    def evaluate(self, exception, try_number, max_tries, context=None) -> RetryDecision:
        if is_transient(exception):
            return RetryDecision.retry(reason=f"may heal: {describe(exception)}")
        return RetryDecision.fail(reason=f"not retried, a retry would fail the same way: {describe(exception)}")
