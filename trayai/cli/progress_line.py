"""``trayai ask``'s prompt-reading line on stderr: "Reading the prompt… 45 % (1,840 / 4,096 tokens)"
with a bar, redrawn in place while a llama.cpp server reads a long prompt and wiped at the first word.

Only on a terminal: a pipe or a file gets no control sequences and no progress at all (the answer on
stdout and the notes on stderr stay what a script reads).
"""

from __future__ import annotations

from typing import TextIO

from trayai.core.net.prompt_progress import PromptProgress, progress_words

BAR_CELLS = 20


class PromptProgressLine:
    """One redrawn line; :meth:`clear` wipes it before anything else is written."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._drawn = False

    def show(self, progress: PromptProgress) -> None:
        if not self._tty:
            return
        filled = int(BAR_CELLS * progress.fraction)
        bar = "█" * filled + "·" * (BAR_CELLS - filled)
        self._stream.write(f"\r{bar}  {progress_words(progress)}\x1b[K")
        self._stream.flush()
        self._drawn = True

    def clear(self) -> None:
        """The first word (or a note, or the end) came: the line goes, the cursor back at its start."""
        if self._drawn:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._drawn = False


__all__ = ["PromptProgressLine"]
