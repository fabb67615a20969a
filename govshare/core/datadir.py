"""The data directory is the platform's alone: the directory 0700, every file in it 0600.

It holds the SQLite database, the key files, uploaded reports, dataset tables, rejects files and the audit anchors.
`secure_data_dir` runs once at start-up, from settings.py, before anything is written: the process's umask becomes
077, so every file and directory this process, its libraries (delta-rs, DuckDB, SQLite, openpyxl) and its child
processes create is its owner's only; the directory is created 0700; and a directory left open to the group or to
others (one made before, with the default umask) loses those bits, with everything in it, once. Plain Python (no
Django): settings.py imports it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

__all__ = ["PRIVATE_UMASK", "SharedDataDir", "secure_data_dir", "tighten_tree"]

logger = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
_OPEN = stat.S_IRWXG | stat.S_IRWXO


def tighten_tree(root: Path) -> int:
    """Remove the group and other bits of `root` and of every file and directory under it (symbolic links are not
    followed); how many were changed. A file this process may not change is logged and left."""
    changed = 0
    for directory, _, files in os.walk(root):
        for name in [".", *files]:  # each directory is "." of its own turn
            path = os.path.join(directory, name)
            try:
                info = os.lstat(path)
                if stat.S_ISLNK(info.st_mode) or not info.st_mode & _OPEN:
                    continue
                os.chmod(path, stat.S_IMODE(info.st_mode) & ~_OPEN)
                changed += 1
            except OSError as exc:
                logger.warning("could not make %s private to its owner: %s", path, exc)
    return changed


class SharedDataDir(RuntimeError):
    """The data directory given is a directory every account writes to (such as /tmp)."""


def secure_data_dir(path: Path) -> None:
    """Owner-only from now on: umask 077, the directory made 0700, an open one (and its content) tightened.

    A directory every account may write to, with the sticky bit (/tmp, /var/tmp), is refused: tightening it would
    take it from every other account and program of the machine, and the platform's files do not belong there."""
    os.umask(PRIVATE_UMASK)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = path.stat().st_mode
    if mode & stat.S_ISVTX and mode & stat.S_IWOTH:
        raise SharedDataDir(
            f"数据目录 {path} 是所有账号共用的公共目录（如 /tmp），不能作为平台的数据目录："
            f"请在 GOVSHARE_DATA_DIR 中指定平台专用的子目录，如 {path / 'govshare'}"
        )
    if mode & _OPEN:
        changed = tighten_tree(path)
        logger.warning("data directory %s was readable by other accounts: %d entries made owner-only", path, changed)
