"""Counting sign-in attempts per account and per address, so that guessing passwords stays slow.

An attempt is counted before its password is checked, and the count and the comparison with the limit
are one atomic step of the storage (an increment in memory, or in Redis shared by every worker and app
server), so parallel requests cannot slip past the limit between a count and a check. The counters
live in a ``limits`` storage: each is a window that starts at its first attempt and is forgotten when
the window has passed.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)


class Admission(Enum):
    ADMITTED = "admitted"
    THROTTLED = "throttled"
    UNAVAILABLE = "unavailable"  # the counters cannot be reached, so no password is checked


@dataclass(frozen=True)
class Rules:
    per_account: int
    per_address: int
    window: timedelta


def storage_for(redis_url: str | None, key_prefix: str = "assure") -> Storage:
    """Redis when a URL is given (counters shared by every process), else this process's memory."""
    if redis_url:
        # A Redis that does not answer refuses sign-in within seconds rather than holding it up.
        return storage_from_string(
            redis_url, key_prefix=key_prefix, wrap_exceptions=True, socket_timeout=2, socket_connect_timeout=2
        )
    return storage_from_string("memory://")


def _key(value: str) -> str:
    # Counters are named by a digest: no email address is written to the storage, and any length fits.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


class SignInThrottle:
    def __init__(self, storage: Storage, rules: Rules):
        self._storage = storage
        self._limiter = FixedWindowRateLimiter(storage)
        seconds = max(1, round(rules.window.total_seconds()))
        self._account = RateLimitItemPerSecond(rules.per_account, seconds, namespace="sign-in-account")
        self._address = RateLimitItemPerSecond(rules.per_address, seconds, namespace="sign-in-address")

    def admit(self, email: str, address: str | None) -> Admission:
        """Count one attempt against the account and the address; may its password be checked?

        Both counters are always counted, so attempts refused for one still count against the other.
        """
        try:
            account_ok = self._limiter.hit(self._account, _key(email))
            address_ok = self._limiter.hit(self._address, _key(address)) if address else True
        except StorageError as exc:
            log.error("sign-in counters unavailable: %s", exc)
            return Admission.UNAVAILABLE
        return Admission.ADMITTED if account_ok and address_ok else Admission.THROTTLED

    def admit_address(self, address: str | None) -> Admission:
        """Count one attempt against the address alone: for guesses that name no account (a reset link)."""
        if not address:
            return Admission.ADMITTED
        try:
            return Admission.ADMITTED if self._limiter.hit(self._address, _key(address)) else Admission.THROTTLED
        except StorageError as exc:
            log.error("sign-in counters unavailable: %s", exc)
            return Admission.UNAVAILABLE

    def succeeded(self, email: str, address: str | None) -> None:
        """A right password: the account's failures are forgiven, and the address gets its attempt back,
        so that many people signing in from one office address never use up its allowance."""
        try:
            self._limiter.clear(self._account, _key(email))
            if address:
                key = self._address.key_for(_key(address))
                self._storage.incr(key, self._address.get_expiry(), amount=-1)
        except StorageError as exc:  # the sign-in stands; the counters only lose an adjustment
            log.error("sign-in counters unavailable: %s", exc)
