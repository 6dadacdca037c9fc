"""Words the client and the practitioner read, in one place so the tone stays calm and plain.

Client-facing words (the questionnaire) never show a score, a client code or another client's data.
"""

# -- the client's minute -----------------------------------------------------------------------
HOW_TO_ANSWER = "Type a number and press Enter. Type b to go back to the previous question."
HOW_TO_SKIP = "You can type s to skip a question you'd rather not answer."
QUESTION_HEADING = "Question {n} of {total}"
SCALE_LINE = "{min} = {min_label}   …   {max} = {max_label}"
SCALE_LINE_MID = "{min} = {min_label}   …   {mid} = {mid_label}   …   {max} = {max_label}"
ANSWER_PROMPT = "Your answer ({min}–{max}): "
ANSWER_PROMPT_KEEP = "Your answer ({min}–{max}, Enter keeps {current}): "
NOT_A_NUMBER = "Please type a whole number from {min} to {max}."
EMPTY_ANSWER = "Please type a number from {min} to {max}, then press Enter."
EMPTY_ANSWER_SKIP = "Please type a number from {min} to {max}, or s to skip."
NO_SKIP = "This one can't be skipped. Please type a number from {min} to {max}."
FIRST_QUESTION = "This is the first question, so there is nothing to go back to."
COMMENT_PROMPT = (
    "Anything that would have made today better? (optional, press Enter to leave blank)"
)
COMMENT_INPUT = "> "
COMMENT_KEEP = "(Enter keeps your comment: {comment}  Type - to remove it.)"
COMMENT_TOO_LONG = (
    "That comment is too long to keep ({length} characters). Please shorten it to at most {max} "
    "characters."
)
COMMENT_CONTROL = (
    "That comment holds a character that cannot be kept ({character}: perhaps an arrow or "
    "function key, or a terminal not set to UTF-8). Please type it again."
)
NOT_TEXT = "That could not be read as text (is the terminal set to UTF-8?). Please type it again."
REVIEW_HEADING = "Your answers"
REVIEW_COMMENT = "Comment: {comment}"
REVIEW_NO_COMMENT = "Comment: (none)"
REVIEW_SKIPPED = "skipped"
REVIEW_PROMPT = "Press Enter to save, a number to change that answer, or c for the comment: "
REVIEW_BAD = "Please press Enter (or y) to save, or type a number from 1 to {total}, or c: "
THANK_YOU = "Thank you. Please turn the screen back to your practitioner."

# -- the practitioner ----------------------------------------------------------------------------
SAVED = "Saved: session {session} for {client} in {path}"
CANCELLED = "Stopped. Nothing was saved."
INPUT_ENDED = "Input ended before the questionnaire was finished. Nothing was saved."
PROMPT_INPUT_ENDED = "Input ended before an answer was given. Nothing was saved."
CONFIRM_SAVE = "Save this rating for {client}?"
NOT_SAVED = "Not saved."
SAVE_FAILED = "Could not save the answers yet: {reason}"
SAVE_LATER = "Nothing was saved. To save these answers later, run:\n  {command}"
SAVE_RETRY = "Fix that (for example free some disk space), then press Enter to try again, or type q to quit without saving: "
