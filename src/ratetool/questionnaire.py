"""The client's minute: one question at a time, forgiving input, a way back, a review.

``Interview`` is plain logic over two callables, ``ask(prompt) -> str`` and ``say(text)``, so it
runs the same in a terminal, under ``CliRunner`` and in unit tests. It never shows a score, a
client code or anything from earlier sessions. ``KeyboardInterrupt`` and ``EOFError`` from ``ask``
propagate: the caller saves nothing and says so.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from ratetool import messages as m
from ratetool.errors import AnswerError
from ratetool.instruments import Instrument, check_answer
from ratetool.limits import MAX_COMMENT, has_control, normalise_line_breaks, visible

BACK = {"b", "back"}
SKIP = {"s", "skip"}
#: At the review, what saves: Enter, or the ``y`` most people type (any case).
SAVE = {"", "y", "yes"}
COMMENT = {"c"}
REMOVE_COMMENT = {"-"}
SKIPPED = object()


@dataclass
class InterviewResult:
    answers: dict[str, int]
    skipped: tuple[str, ...]
    comment: str | None


class Interview:
    def __init__(
        self,
        instrument: Instrument,
        ask: Callable[[str], str],
        say: Callable[[str], None],
        *,
        comment: str | None = None,
        ask_comment: bool = True,
        review: bool = True,
        width: int = 80,
    ) -> None:
        self.instrument = instrument
        self.ask = ask
        self.say = say
        self.values: dict[str, object] = {}
        self.comment = comment
        self.ask_comment = ask_comment and comment is None
        self.review = review
        self.width = max(40, width)
        scale = instrument.scale
        self.fmt = {"min": scale.min, "max": scale.max}

    # -- pieces ------------------------------------------------------------------------------
    def _ask(self, prompt: str) -> str:
        """``ask``, again after a line that was not text in the terminal's encoding (a terminal
        not set to UTF-8): said calmly, never an internal error."""
        while True:
            try:
                return self.ask(prompt)
            except UnicodeDecodeError:
                self.say(m.NOT_TEXT)

    def scale_line(self) -> str:
        s = self.instrument.scale
        if s.mid_label:
            mid = (s.min + s.max) / 2
            mid_text = str(int(mid)) if mid == int(mid) else f"{mid:g}"
            return m.SCALE_LINE_MID.format(
                min=s.min,
                max=s.max,
                mid=mid_text,
                min_label=s.min_label,
                mid_label=s.mid_label,
                max_label=s.max_label,
            )
        return m.SCALE_LINE.format(
            min=s.min, max=s.max, min_label=s.min_label, max_label=s.max_label
        )

    def say_wrapped(self, text: str) -> None:
        """Say ``text`` folded between words to the screen width, never mid-word."""
        import textwrap

        for line in textwrap.wrap(text, self.width) or [""]:
            self.say(line)

    def intro(self) -> None:
        self.say("")
        self.say(visible(self.instrument.title))
        self.say_wrapped(visible(self.instrument.intro))
        self.say_wrapped(m.HOW_TO_ANSWER)
        if self.instrument.allow_skip:
            self.say_wrapped(m.HOW_TO_SKIP)

    def ask_item(self, index: int, *, from_review: bool = False) -> str | object:
        """Ask item ``index`` until a valid answer; returns the answer, SKIPPED, or "back".

        ``from_review``: the client is changing one answer from the review, so "b" always goes
        back to the review (even on the first question) and leaves the answer as it was.
        """
        item = self.instrument.items[index]
        total = len(self.instrument.items)
        current = self.values.get(item.id)
        self.say("")
        self.say(m.QUESTION_HEADING.format(n=index + 1, total=total))
        self.say_wrapped(visible(item.text))
        self.say("  " + visible(self.scale_line()))
        while True:
            if current is None:
                prompt = m.ANSWER_PROMPT.format(**self.fmt)
            else:
                shown = m.REVIEW_SKIPPED if current is SKIPPED else current
                prompt = m.ANSWER_PROMPT_KEEP.format(current=shown, **self.fmt)
            raw = self._ask(prompt).strip()
            low = raw.lower()
            if low in BACK:
                if index == 0 and not from_review:
                    self.say(m.FIRST_QUESTION)
                    continue
                return "back"
            if not raw:
                if current is not None:
                    return current
                self.say(
                    (m.EMPTY_ANSWER_SKIP if self.instrument.allow_skip else m.EMPTY_ANSWER).format(
                        **self.fmt
                    )
                )
                continue
            if low in SKIP:
                if self.instrument.allow_skip:
                    return SKIPPED
                self.say(m.NO_SKIP.format(**self.fmt))
                continue
            try:
                return check_answer(self.instrument, item.id, raw)
            except AnswerError:
                self.say(m.NOT_A_NUMBER.format(**self.fmt))

    def ask_comment_text(self) -> str | None:
        """The optional comment: the new text, the kept one for Enter, None for none or "-"
        (removes a comment already given), or "back" to go back."""
        self.say("")
        self.say(m.COMMENT_PROMPT)
        if self.comment:
            self.say(m.COMMENT_KEEP.format(comment=visible(self.comment)))
        while True:
            raw = self._ask(m.COMMENT_INPUT)
            if raw.strip().lower() in BACK:
                return "back"
            text = normalise_line_breaks(raw).strip()
            if not text:
                return self.comment
            if self.comment and text in REMOVE_COMMENT:
                return None
            if len(text) > MAX_COMMENT:
                # Refused here, where the client can shorten it, not after the questionnaire,
                # where build_rating would refuse the whole rating.
                self.say(m.COMMENT_TOO_LONG.format(length=len(text), max=MAX_COMMENT))
                continue
            if has_control(text):
                # An arrow or function key where the terminal has no line editing arrives as
                # ESC [ D: said calmly, and asked again, never saved (nor echoed raw).
                shown = next(visible(ch) for ch in text if has_control(ch))
                self.say(m.COMMENT_CONTROL.format(character=shown))
                continue
            return text

    def show_review(self) -> None:
        """Every answer beside its question, as a rich table: the answers in one column, long
        questions wrapped between words. rich is imported here, after the last question, so the
        questionnaire starts without it."""
        from rich.console import Console
        from rich.padding import Padding
        from rich.table import Table
        from rich.text import Text

        self.say("")
        self.say(m.REVIEW_HEADING)
        review = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
        review.add_column(justify="right", no_wrap=True)
        review.add_column(overflow="fold")
        review.add_column(justify="right", no_wrap=True)
        for n, item in enumerate(self.instrument.items, start=1):
            value = self.values.get(item.id)
            shown = m.REVIEW_SKIPPED if value is SKIPPED else str(value)
            review.add_row(f"{n}.", Text(visible(item.text)), shown)
        # Drawn to text at the questionnaire's width and said line by line, like every other
        # line of the questionnaire (``say`` is the terminal, or a test).
        con = Console(
            file=io.StringIO(),
            width=self.width,
            color_system=None,
            markup=False,
            emoji=False,
            highlight=False,
        )
        with con.capture() as drawn:
            con.print(Padding.indent(review, 2))
        for line in drawn.get().splitlines():
            self.say(line.rstrip())
        self.say(
            "  "
            + (
                m.REVIEW_COMMENT.format(comment=visible(self.comment))
                if self.comment
                else m.REVIEW_NO_COMMENT
            )
        )

    def review_choice(self, raw: str) -> str | int | None:
        """What a line typed at the review asks for: "save", "back", "comment", the index of
        the question to change, or ``None`` for anything else (asked again)."""
        low = raw.strip().lower()
        if low in SAVE:
            return "save"
        if low in BACK:
            return "back"
        if low in COMMENT:
            return "comment"
        # ASCII digits only ("²" is a digit to str.isdigit, not to int), and few of them.
        if low.isascii() and low.isdigit() and len(low) <= 6:
            number = int(low)
            if 1 <= number <= len(self.instrument.items):
                return number - 1
        return None

    # -- the flow ----------------------------------------------------------------------------
    def run(self) -> InterviewResult:
        items = self.instrument.items
        self.intro()
        step = 0
        # steps: 0..n-1 items, n comment, n+1 review
        n = len(items)
        while True:
            if step < n:
                result = self.ask_item(step)
                if result == "back":
                    step -= 1
                    continue
                self.values[items[step].id] = result
                step += 1
                continue
            if step == n:
                if not self.ask_comment:
                    step += 1
                    continue
                text = self.ask_comment_text()
                if text == "back":
                    step = n - 1
                    continue
                self.comment = text
                step += 1
                continue
            if not self.review:
                break
            self.show_review()
            choice = self.review_choice(self._ask(m.REVIEW_PROMPT))
            while choice is None:  # asked again in one line, the review stays where it is
                choice = self.review_choice(self._ask(m.REVIEW_BAD.format(total=n)))
            if choice == "save":
                break
            if choice == "back":
                step = n if self.ask_comment else n - 1
                continue
            if choice == "comment":
                text = self.ask_comment_text()
                if text != "back":
                    self.comment = text
                continue
            assert isinstance(choice, int)
            result = self.ask_item(choice, from_review=True)
            if result != "back":
                self.values[items[choice].id] = result
        answers = {item.id: v for item in items if isinstance(v := self.values.get(item.id), int)}
        skipped = tuple(item.id for item in items if self.values.get(item.id) is SKIPPED)
        return InterviewResult(answers=answers, skipped=skipped, comment=self.comment)
