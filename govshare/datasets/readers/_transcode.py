"""Child process of encoding.TranscodingReader: `python -I -S _transcode.py FILE CODEC FLAG_FD`.

Reads FILE in 4 MB chunks and writes it to stdout as UTF-8 (undecodable bytes become U+FFFD), then prints one
JSON line to stderr: {"bytes": source bytes read, "sha256": their checksum}. The first time a byte does not
decode, one byte goes to FLAG_FD, before the chunk holding its U+FFFD is written to stdout: so the reader knows
that rows need checking by the time it sees that chunk (searching every chunk for U+FFFD cost more than decoding).
Standard library only, so that it starts in milliseconds. The checksum is computed on a thread (hashlib releases
the GIL) while chunks decode.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import queue
import sys
import threading

CHUNK = 4 << 20


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Replacements:
    """The decoders' error handler: U+FFFD for an undecodable byte, and a note that there was one."""

    def __init__(self) -> None:
        self.seen = False
        self.flagged = False

    def __call__(self, error: UnicodeError) -> tuple[str, int]:
        assert isinstance(error, UnicodeDecodeError)
        self.seen = True
        return "\ufffd", error.end


_replacements = _Replacements()
codecs.register_error("govshare-replace", _replacements)


class _Decoder:
    """GB18030 decodes every GBK file, but the plain GBK codec is faster: use it until a chunk needs GB18030."""

    def __init__(self, codec: str) -> None:
        self._fast = codec == "gb18030"
        self._decoder = codecs.getincrementaldecoder("gbk" if self._fast else codec)(
            "strict" if self._fast else "govshare-replace"
        )

    def decode(self, data: bytes, final: bool = False) -> str:
        if self._fast:
            pending = self._decoder.getstate()[0]
            try:
                return self._decoder.decode(data, final)
            except UnicodeDecodeError:
                self._fast = False
                self._decoder = codecs.getincrementaldecoder("gb18030")("govshare-replace")
                data = pending + data
        return self._decoder.decode(data, final)


def _write_decoded(out_fd: int, flag_fd: int, text: str) -> None:
    if _replacements.seen and not _replacements.flagged:
        _write_all(flag_fd, b"!")
        _replacements.flagged = True
    _write_all(out_fd, text.encode("utf-8"))


def _hash_in_background(digest: hashlib._Hash, chunks: queue.Queue[bytes | None]) -> None:
    while (chunk := chunks.get()) is not None:
        digest.update(chunk)


def transcode(path: str, codec: str, out_fd: int, flag_fd: int) -> dict[str, object]:
    decoder = _Decoder(codec)
    digest = hashlib.sha256()
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
    hasher = threading.Thread(target=_hash_in_background, args=(digest, chunks), daemon=True)
    hasher.start()
    total = 0
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            total += len(chunk)
            chunks.put(chunk)
            _write_decoded(out_fd, flag_fd, decoder.decode(chunk))
    _write_decoded(out_fd, flag_fd, decoder.decode(b"", final=True))
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
