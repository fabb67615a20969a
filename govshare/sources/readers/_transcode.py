"""Child process of encoding.TranscodingReader: `python -I -S _transcode.py FILE CODEC FLAG_FD`.

Reads FILE in 4 MB chunks and writes it to stdout as UTF-8 (undecodable bytes become U+FFFD), then prints one
JSON line to stderr: {"bytes": source bytes read, "sha256": their checksum}. The first time a byte does not
decode, one byte goes to FLAG_FD, before the chunk holding its U+FFFD is written to stdout: so the reader knows
that rows need checking by the time it sees that chunk (searching every chunk for U+FFFD cost more than decoding).
Standard library only, so that it starts in milliseconds. The checksum is computed on a thread (hashlib releases
the GIL) while chunks decode.

GB18030 (and so GBK, its subset) is decoded by the C library's iconv when it has one that knows GB18030 (glibc
does): straight to UTF-8, twice as fast as Python's codec, which decodes to str and encodes again. Both give the
same characters (tested); other encodings use Python's codecs.
"""

from __future__ import annotations

import codecs
import ctypes
import errno
import hashlib
import json
import os
import queue
import sys
import threading
from typing import Protocol

CHUNK = 4 << 20
REPLACEMENT = "\ufffd".encode()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Decoder(Protocol):
    replaced: bool

    def decode(self, data: bytes, final: bool = False) -> bytes:
        """The UTF-8 bytes of `data`, undecodable bytes as U+FFFD (noting `replaced`); an incomplete character at
        the end waits for the next call, unless `final`."""
        ...


class _PythonDecoder:
    def __init__(self, codec: str) -> None:
        self.replaced = False
        codecs.register_error("govshare-replace", self._replace)
        self._decoder = codecs.getincrementaldecoder(codec)("govshare-replace")

    def _replace(self, error: UnicodeError) -> tuple[str, int]:
        assert isinstance(error, UnicodeDecodeError)
        self.replaced = True
        return "\ufffd", error.end

    def decode(self, data: bytes, final: bool = False) -> bytes:
        return self._decoder.decode(data, final).encode("utf-8")


class _IconvDecoder:
    """iconv(3) through ctypes. An invalid byte becomes one U+FFFD and decoding goes on at the next byte, as
    Python's "replace" does; an incomplete sequence at a chunk's end is kept for the next chunk."""

    def __init__(self, codec: str) -> None:
        self.replaced = False
        libc = ctypes.CDLL(None, use_errno=True)
        iconv_open = libc.iconv_open
        iconv_open.restype = ctypes.c_void_p
        iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        handle = iconv_open(b"UTF-8", codec.encode("ascii"))
        if handle is None or handle == ctypes.c_void_p(-1).value:
            raise LookupError(codec)
        self._handle = ctypes.c_void_p(handle)
        self._iconv = libc.iconv
        self._iconv.restype = ctypes.c_size_t
        pointer, size = ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)
        self._iconv.argtypes = [ctypes.c_void_p, pointer, size, pointer, size]
        self._pending = b""
        self._out = ctypes.create_string_buffer(0)

    def decode(self, data: bytes, final: bool = False) -> bytes:
        data = self._pending + data if self._pending else data
        self._pending = b""
        # Room for the worst case: every byte a U+FFFD (3 bytes).
        if len(self._out) < 3 * len(data) + 8:
            self._out = ctypes.create_string_buffer(3 * len(data) + 8)
        source = ctypes.create_string_buffer(data, len(data))
        in_ptr, in_left = ctypes.c_void_p(ctypes.addressof(source)), ctypes.c_size_t(len(data))
        start = ctypes.addressof(self._out)
        out_ptr, out_left = ctypes.c_void_p(start), ctypes.c_size_t(len(self._out))
        args = (ctypes.byref(in_ptr), ctypes.byref(in_left), ctypes.byref(out_ptr), ctypes.byref(out_left))
        while in_left.value:
            if self._iconv(self._handle, *args) != ctypes.c_size_t(-1).value:
                break
            error = ctypes.get_errno()
            if error == errno.EINVAL and not final:  # a character cut at the chunk's end
                self._pending = ctypes.string_at(in_ptr.value or 0, in_left.value)
                break
            if error not in (errno.EILSEQ, errno.EINVAL):
                raise OSError(error, os.strerror(error))
            self.replaced = True
            ctypes.memmove(out_ptr.value or 0, REPLACEMENT, len(REPLACEMENT))
            out_ptr.value = (out_ptr.value or 0) + len(REPLACEMENT)
            out_left.value -= len(REPLACEMENT)
            in_ptr.value = (in_ptr.value or 0) + 1
            in_left.value -= 1
        return ctypes.string_at(start, (out_ptr.value or 0) - start)


def _decoder(codec: str) -> _Decoder:
    if codecs.lookup(codec).name == "gb18030":
        try:
            return _IconvDecoder("GB18030")
        except (OSError, LookupError, AttributeError):  # no iconv, or one without GB18030
            pass
    return _PythonDecoder(codec)


def _write_decoded(out_fd: int, flag_fd: int, decoder: _Decoder, data: bytes, final: bool = False) -> None:
    flagged = decoder.replaced
    utf8 = decoder.decode(data, final)
    if decoder.replaced and not flagged:
        _write_all(flag_fd, b"!")
    _write_all(out_fd, utf8)


def _hash_in_background(digest: hashlib._Hash, chunks: queue.Queue[bytes | None]) -> None:
    while (chunk := chunks.get()) is not None:
        digest.update(chunk)


def transcode(path: str, codec: str, out_fd: int, flag_fd: int) -> dict[str, object]:
    decoder = _decoder(codec)
    digest = hashlib.sha256()
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
    hasher = threading.Thread(target=_hash_in_background, args=(digest, chunks), daemon=True)
    hasher.start()
    total = 0
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            total += len(chunk)
            chunks.put(chunk)
            _write_decoded(out_fd, flag_fd, decoder, chunk)
    _write_decoded(out_fd, flag_fd, decoder, b"", final=True)
    chunks.put(None)
    hasher.join()
    return {"bytes": total, "sha256": digest.hexdigest()}


def main() -> None:
    figures = transcode(sys.argv[1], sys.argv[2], sys.stdout.fileno(), int(sys.argv[3]))
    # Close the pipe (the reader sees its end) by pointing stdout at /dev/null: closing fd 1 itself would make
    # the interpreter's exit complain on stderr, after the figures.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.stderr.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.exit(1)
