"""Child process of encoding.TranscodingReader: `python -I -S _transcode.py FILE CODEC`.

Reads FILE in 4 MB chunks and writes it to stdout as UTF-8 (undecodable bytes become U+FFFD), then prints one
JSON line to stderr: {"bytes": source bytes read, "sha256": their checksum}. Standard library only, so that it
starts in milliseconds. The checksum is computed on a thread (hashlib releases the GIL) while chunks decode.
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


class _Decoder:
    """GB18030 decodes every GBK file, but the plain GBK codec is faster: use it until a chunk needs GB18030."""

    def __init__(self, codec: str) -> None:
        self._fast = codec == "gb18030"
        self._decoder = codecs.getincrementaldecoder("gbk" if self._fast else codec)(
            "strict" if self._fast else "replace"
        )

    def decode(self, data: bytes, final: bool = False) -> str:
        if self._fast:
            pending = self._decoder.getstate()[0]
            try:
                return self._decoder.decode(data, final)
            except UnicodeDecodeError:
                self._fast = False
                self._decoder = codecs.getincrementaldecoder("gb18030")("replace")
                data = pending + data
        return self._decoder.decode(data, final)


def _hash_in_background(digest: hashlib._Hash, chunks: queue.Queue[bytes | None]) -> None:
    while (chunk := chunks.get()) is not None:
        digest.update(chunk)


def transcode(path: str, codec: str, out_fd: int) -> dict[str, object]:
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
            _write_all(out_fd, decoder.decode(chunk).encode("utf-8"))
    _write_all(out_fd, decoder.decode(b"", final=True).encode("utf-8"))
    chunks.put(None)
    hasher.join()
    return {"bytes": total, "sha256": digest.hexdigest()}


def main() -> None:
    figures = transcode(sys.argv[1], sys.argv[2], sys.stdout.fileno())
    # Close the pipe (the reader sees its end) by pointing stdout at /dev/null: closing fd 1 itself would make
    # the interpreter's exit complain on stderr, after the figures.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.stderr.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.exit(1)
