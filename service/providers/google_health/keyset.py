"""Google Health's webhook public keys: a Tink JSON public keyset, parsed by hand, and a cache.

The keyset (FACTS §4.2) lives at `DEFAULT_KEYSET_URL` and looks like

    {"primaryKeyId": 7, "key": [{"keyData": {
        "typeUrl": "type.googleapis.com/google.crypto.tink.EcdsaPublicKey",
        "value": "<base64 EcdsaPublicKey proto>", "keyMaterialType": "ASYMMETRIC_PUBLIC"},
      "status": "ENABLED", "keyId": 7, "outputPrefixType": "TINK"}]}

`EcdsaPublicKey` is a protobuf message: 1 version, 2 params (`EcdsaParams`: 1 hash type,
2 curve, 3 signature encoding), 3 x, 4 y (big-endian, often with a leading zero byte). Only a
few varint and length-delimited fields, so it is read here rather than through the `tink`
package, whose native wheels are missing on some platforms. Only ENABLED keys with the TINK
output prefix (the `0x01 ‖ key id` the signature header carries), P-256 and SHA-256 are kept.

The cache (`KeysetCache`) fetches with the caller's httpx client, keeps the parsed keys for
`ttl` seconds, refetches at most once per `min_refetch_interval` when a signature names a key
it does not hold (Google rotates keys, reportedly every 30 days: FACTS §8.12), and keeps the
last good keyset when a fetch fails, so an outage of gstatic never turns away Google's pushes
signed with keys we already know. No lock is held across a fetch: pushes signed with a key we
hold are verified while a refetch runs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec

log = logging.getLogger(__name__)

DEFAULT_KEYSET_URL = "https://www.gstatic.com/googlehealthapi/webhooks/webhooks_public_keyset.json"
ECDSA_PUBLIC_KEY_TYPE = "type.googleapis.com/google.crypto.tink.EcdsaPublicKey"

# Tink's enum values (tink/proto/common.proto, ecdsa.proto).
HASH_SHA256 = 3
CURVE_NIST_P256 = 2


class Encoding(enum.IntEnum):
    """How the signature bytes after the Tink prefix are laid out."""

    IEEE_P1363 = 1  # r ‖ s, 32 bytes each
    DER = 2


@dataclass(frozen=True, slots=True)
class VerifyingKey:
    key_id: int
    public_key: ec.EllipticCurvePublicKey
    encoding: Encoding


Keys = Mapping[int, VerifyingKey]


class InvalidKeyset(ValueError):
    """The document is not a Tink JSON public keyset we can use."""


def parse_keyset(document: Any) -> dict[int, VerifyingKey]:
    """The usable keys of a keyset by key id; keys of another kind are skipped, not fatal."""
    if not isinstance(document, dict) or not isinstance(document.get("key"), list):
        raise InvalidKeyset("not a Tink JSON keyset: no key list")
    keys: dict[int, VerifyingKey] = {}
    for entry in document["key"]:
        key = _usable_key(entry)
        if key is not None:
            keys[key.key_id] = key
    return keys


def _usable_key(entry: Any) -> VerifyingKey | None:
    if not isinstance(entry, dict):
        return None
    key_id, data = entry.get("keyId"), entry.get("keyData")
    if entry.get("status") != "ENABLED" or entry.get("outputPrefixType") != "TINK":
        return None
    if isinstance(key_id, bool) or not isinstance(key_id, int) or not 0 <= key_id < 2**32:
        return None
    if not isinstance(data, dict) or data.get("typeUrl") != ECDSA_PUBLIC_KEY_TYPE:
        return None
    try:
        public_key, encoding = ecdsa_public_key(str(data.get("value", "")))
    except InvalidKeyset:
        return None
    return VerifyingKey(key_id, public_key, encoding)


def ecdsa_public_key(value_b64: str) -> tuple[ec.EllipticCurvePublicKey, Encoding]:
    """A Tink `EcdsaPublicKey` proto (base64) as a P-256 public key and its signature encoding."""
    try:
        fields = _fields(base64.b64decode(value_b64, validate=True))
        params = _fields(fields[2])
        x, y = int.from_bytes(fields[3], "big"), int.from_bytes(fields[4], "big")
    # TypeError: a varint where the proto has bytes.
    except (binascii.Error, KeyError, IndexError, TypeError, ValueError):
        raise InvalidKeyset("not an EcdsaPublicKey proto") from None
    hash_type, curve = params.get(1), params.get(2)
    encoding = params.get(3, Encoding.DER)
    if hash_type != HASH_SHA256 or curve != CURVE_NIST_P256 or encoding not in set(Encoding):
        raise InvalidKeyset(f"unsupported params: hash {hash_type!r}, curve {curve!r}")
    try:
        public_key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except ValueError:
        raise InvalidKeyset("the point is not on P-256") from None
    return public_key, Encoding(encoding)


def _fields(proto: bytes | int) -> dict[int, Any]:
    """Field number -> value (bytes for length-delimited, int for varint); last one wins."""
    if not isinstance(proto, bytes):
        raise ValueError("expected a length-delimited field")
    fields: dict[int, Any] = {}
    i = 0
    while i < len(proto):
        tag, i = _varint(proto, i)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            fields[number], i = _varint(proto, i)
        elif wire == 2:
            size, i = _varint(proto, i)
            if i + size > len(proto):
                raise ValueError("truncated field")
            fields[number], i = proto[i : i + size], i + size
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
    return fields


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]  # IndexError on a truncated varint
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


# -- writing (tests, and anything that must play Google's part) ----------------------------


def encode_public_key(public_key: ec.EllipticCurvePublicKey) -> str:
    """The base64 `EcdsaPublicKey` proto of a P-256 key, as Google publishes it."""
    numbers = public_key.public_numbers()
    params = bytes([0x08, HASH_SHA256, 0x10, CURVE_NIST_P256, 0x18, Encoding.DER])
    # Tink writes the coordinates as signed big-endian integers: a leading zero byte.
    x = b"\x00" + numbers.x.to_bytes(32, "big")
    y = b"\x00" + numbers.y.to_bytes(32, "big")
    proto = (
        b"\x08\x00"
        + b"\x12"
        + bytes([len(params)])
        + params
        + b"\x1a"
        + bytes([len(x)])
        + x
        + b"\x22"
        + bytes([len(y)])
        + y
    )
    return base64.b64encode(proto).decode("ascii")


def keyset_document(keys: Mapping[int, ec.EllipticCurvePublicKey]) -> dict[str, Any]:
    """A Tink JSON public keyset holding `keys`; the first is primary."""
    return {
        "primaryKeyId": next(iter(keys)),
        "key": [
            {
                "keyData": {
                    "typeUrl": ECDSA_PUBLIC_KEY_TYPE,
                    "value": encode_public_key(public_key),
                    "keyMaterialType": "ASYMMETRIC_PUBLIC",
                },
                "status": "ENABLED",
                "keyId": key_id,
                "outputPrefixType": "TINK",
            }
            for key_id, public_key in keys.items()
        ],
    }


# -- the cache -----------------------------------------------------------------------------


class KeysetUnavailable(Exception):
    """No keyset has ever been fetched and the fetch failed: nothing can be verified yet."""


class KeysetCache:
    """The parsed keyset, fetched lazily and shared by every request of the process.

    No lock is held across the HTTP fetch: a fetch runs as one shared task, and a request
    verifying a key id we hold never waits for it. Past the TTL the keys held are still used
    while a refetch runs behind them; only a request that has no key for its key id (none
    fetched yet, or an unknown id) waits for the fetch, and concurrent ones share it.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str = DEFAULT_KEYSET_URL,
        *,
        ttl: float = 3600.0,
        min_refetch_interval: float = 60.0,
        max_stale: float = 7 * 86400.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http, self._url, self._clock = http, url, clock
        self._ttl, self._min_refetch, self._max_stale = ttl, min_refetch_interval, max_stale
        self._keys: dict[int, VerifyingKey] | None = None
        self._fetched_at = 0.0  # last successful fetch
        self._attempted_at: float | None = None  # last attempt, successful or not
        self._inflight: asyncio.Task[None] | None = None
        self.last_error: str | None = None

    async def keys(self) -> Keys:
        """The current keys: fetched (and waited for) when none are held; past the TTL, the
        ones held while a refetch runs behind them.

        Raises `KeysetUnavailable` when no keyset was ever fetched, or when the last good one is
        older than `max_stale` (a key Google withdrew must not be trusted for ever).
        """
        if self._keys is None:
            await self._refresh()
        elif self._clock() - self._fetched_at >= self._ttl:
            self._start_fetch()
        return self._current()

    def _current(self) -> Keys:
        if self._keys is None or self._clock() - self._fetched_at >= self._max_stale:
            raise KeysetUnavailable(self.last_error or "keyset not fetched")
        return self._keys

    async def refetch_for(self, key_id: int) -> Keys:
        """The keys after one refetch for an unknown `key_id`, unless one ran moments ago.

        Concurrent callers share one fetch; one that comes while it runs waits for it too.
        """
        if self._keys is None or key_id not in self._keys:
            await self._refresh()
        return self._current()

    async def _refresh(self) -> None:
        """Wait for the fetch in flight, or for a new one unless one ran moments ago."""
        fetch = self._start_fetch()
        if fetch is not None:
            # Shielded: a caller that gives up does not cancel the others' fetch.
            await asyncio.shield(fetch)

    def _start_fetch(self) -> asyncio.Task[None] | None:
        """The fetch in flight; a new one unless the last attempt was moments ago (a failed
        fetch keeps the last good keys, and gstatic is not hammered)."""
        if self._inflight is not None and not self._inflight.done():
            return self._inflight
        last = self._attempted_at
        if last is not None and self._clock() - last < self._min_refetch:
            return None
        self._attempted_at = self._clock()
        self._inflight = asyncio.get_running_loop().create_task(self._fetch(self._attempted_at))
        self._inflight.add_done_callback(_retrieve)
        return self._inflight

    async def _fetch(self, attempted_at: float) -> None:
        try:
            response = await self._http.get(self._url, headers={"Accept": "application/json"})
            response.raise_for_status()
            keys = parse_keyset(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            # InvalidKeyset and JSON errors are ValueErrors: the last good keyset stays.
            self.last_error = f"keyset fetch failed: {type(exc).__name__}"
            return
        if not keys:
            self.last_error = "keyset fetch returned no usable key"
            return
        self._keys, self._fetched_at, self.last_error = keys, attempted_at, None


def _retrieve(task: asyncio.Task[None]) -> None:
    """Log a background fetch's unexpected error (a closed client at shutdown), which no
    request may be waiting for."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.warning("keyset fetch failed: %r", exc)
