"""An answer's body as requests' `Response.raw` offers it to the HTTP client, over an
`http.client` response (exporter/api/transport.py): `read1` gives whatever the socket has,
decoded, never more than asked; the content decoders take their input in pieces and give
their output a bounded piece at a time, so a compressed bomb is read as slowly as any answer.
"""

from __future__ import annotations

import http.client
import zlib
from collections.abc import Callable, Generator
from typing import Any

import urllib3.exceptions

# Bytes of an answer read without a byte of output from its decoder: a real deflate stream
# cannot hold this much that says nothing, a hostile one (empty blocks) would else be read
# for ever without the HTTP client's size limit or total deadline ever seeing a piece.
MAX_SILENT_INPUT = 1 << 20
_GZIP = 16 + zlib.MAX_WBITS


class Decoder:
    """Input in (`feed`), output out (`take`: at most `amt` bytes, b"" when it needs more)."""

    def __init__(self) -> None:
        self._input = b""

    def feed(self, data: bytes) -> None:
        self._input += data

    def take(self, amt: int) -> bytes:
        raise NotImplementedError


class GzipDecoder(Decoder):
    """gzip, member after member as urllib3 reads them: bytes after a whole member that are not
    another one are ignored, as other gzip clients ignore trailing garbage."""

    def __init__(self) -> None:
        super().__init__()
        self._inner = zlib.decompressobj(_GZIP)
        self._later_member = False
        self._swallow = False

    def feed(self, data: bytes) -> None:
        if not self._swallow:
            self._input += data

    def take(self, amt: int) -> bytes:
        while self._input and not self._swallow:
            try:
                out = self._inner.decompress(self._input, amt)
            except zlib.error:
                self._swallow, self._input = True, b""
                if self._later_member:
                    return b""
                raise
            if self._inner.eof:
                self._input = self._inner.unused_data
                if self._input:
                    self._inner, self._later_member = zlib.decompressobj(_GZIP), True
            else:
                self._input = self._inner.unconsumed_tail
            if out:
                return out
        return b""


class DeflateDecoder(Decoder):
    """`deflate` as servers send it: a zlib stream, or (against RFC 9110) a raw one. Which one
    is known once the zlib reading has given output or failed; until then the input is kept
    to be read again as raw (bounded by MAX_SILENT_INPUT through the body)."""

    def __init__(self) -> None:
        super().__init__()
        self._inner = zlib.decompressobj()
        self._deciding = True
        self._seen = b""

    def feed(self, data: bytes) -> None:
        self._input += data
        if self._deciding:
            self._seen += data

    def take(self, amt: int) -> bytes:
        while self._input:
            try:
                out = self._inner.decompress(self._input, amt)
            except zlib.error:
                if not self._deciding:
                    raise
                self._deciding = False
                self._inner = zlib.decompressobj(-zlib.MAX_WBITS)
                self._input, self._seen = self._seen, b""
                continue
            self._input = b"" if self._inner.eof else self._inner.unconsumed_tail
            if out:
                self._deciding, self._seen = False, b""
                return out
        return b""


class ChainDecoder(Decoder):
    """Several codings, as `Content-Encoding: deflate, gzip` lists them in the order they were
    applied: decoded the other way round, each stage fed pieces of the next one's output.
    A stage fed MAX_SILENT_INPUT without output fails, as the body does for the outermost."""

    def __init__(self, applied: list[Decoder]) -> None:
        super().__init__()
        self._stages = applied  # [first applied, ..., last applied]: the last is read first
        self._silent = [0] * len(applied)

    def feed(self, data: bytes) -> None:
        self._stages[-1].feed(data)

    def take(self, amt: int) -> bytes:
        return self._take(0, amt)

    def _take(self, index: int, amt: int) -> bytes:
        stage = self._stages[index]
        while True:
            if out := stage.take(amt):
                self._silent[index] = 0
                return out
            if index == len(self._stages) - 1:
                return b""
            more = self._take(index + 1, 65536)
            if not more:
                return b""
            self._silent[index] += len(more)
            if self._silent[index] > MAX_SILENT_INPUT:
                raise zlib.error(f"{self._silent[index]} bytes without any content")
            stage.feed(more)


DECODERS: dict[str, Callable[[], Decoder]] = {
    "gzip": GzipDecoder,
    "x-gzip": GzipDecoder,
    "deflate": DeflateDecoder,
}


def decoder_for(content_encoding: str) -> Decoder | None:
    """The decoder of a `Content-Encoding` value; None (the body passed on as it came, as
    urllib3 does with a coding it does not know) when it names none or a coding not known
    here. `identity` is no coding."""
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings or any(c not in DECODERS for c in codings):
        return None
    if len(codings) == 1:
        return DECODERS[codings[0]]()
    return ChainDecoder([DECODERS[c]() for c in codings])


class Body:
    """`read1` (whatever the socket has, decoded, at most `amt` bytes of it), `read`, `stream`,
    `close`. A body read to its end gives its connection back (`give_back`, None when the
    answer ends its connection); one closed before that closes its connection (`drop`: what
    is left of the answer would be read as the next one's). Failures while reading are
    urllib3's exceptions, which the HTTP client and requests' `iter_content` expect."""

    def __init__(
        self,
        answer: http.client.HTTPResponse,
        decoder: Decoder | None,
        give_back: Callable[[], None] | None,
        drop: Callable[[], None],
    ) -> None:
        self._original_response = answer  # what requests reads cookies from
        self._answer = answer
        self._decoder = decoder
        self._give_back = give_back
        self._drop = drop
        self._done = False
        self._silent = 0  # bytes read since the decoder's last output

    def read1(self, amt: int = 65536, decode_content: bool = True) -> bytes:
        amt = amt if amt and amt > 0 else 65536
        decoder = self._decoder if decode_content else None
        try:
            if decoder is not None and (out := decoder.take(amt)):
                self._silent = 0
                return out
            while not self._done:
                data = self._read(amt)
                if decoder is None or not data:
                    return data
                decoder.feed(data)
                if out := decoder.take(amt):
                    self._silent = 0
                    return out
                self._silent += len(data)
                if self._silent > MAX_SILENT_INPUT:
                    raise zlib.error(f"{self._silent} bytes without any content")
        except zlib.error as exc:
            self.close()
            raise urllib3.exceptions.DecodeError("content not decodable", exc) from None
        return b""

    def _read(self, amt: int) -> bytes:
        """The next bytes of the body as they come; b"" once at its end (after a check that
        it is whole: `http.client` takes an early end of the connection for the end)."""
        try:
            data = self._answer.read1(amt)
        except TimeoutError:
            self.close()
            # urllib3's own, which requests' iter_content maps too; no urllib3 pool behind it.
            no_pool: Any = None
            raise urllib3.exceptions.ReadTimeoutError(no_pool, "", "read timed out") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            self.close()
            raise urllib3.exceptions.ProtocolError("connection broken", exc) from None
        if data:
            return data
        if self._answer.length:
            self.close()
            raise urllib3.exceptions.ProtocolError(
                "connection broken", f"{self._answer.length} bytes short"
            )
        self._done = True
        self._answer.close()
        give_back, self._give_back = self._give_back, None
        (give_back or self._drop)()
        return b""

    def read(self, amt: int | None = None, decode_content: bool = True) -> bytes:
        if amt is not None:
            return self.read1(amt, decode_content)
        pieces = []
        while piece := self.read1(65536, decode_content):
            pieces.append(piece)
        return b"".join(pieces)

    def stream(self, amt: int = 65536, decode_content: bool = True) -> Generator[bytes, None, None]:
        while piece := self.read1(amt, decode_content):
            yield piece

    def release_conn(self) -> None:
        """requests calls it after a redirect's body was read: nothing left to do then."""

    def close(self) -> None:
        if not self._done:
            self._done = True
            self._give_back = None
            self._answer.close()
            self._drop()
