"""Explicit limits, in one place, so docs, validation and tests agree.

Most numbers follow from Discord itself (embed, modal and thread-name sizes);
the rest keep one guild from growing the database without bound.
"""

# Cohorts
MAX_COHORT_NAME_CHARS = 50
MAX_COHORTS_PER_GUILD = 25  # one autocomplete page; a server rarely runs more at once
MAX_EVERY_WEEKS = 8
MAX_WINDOW_HOURS = 24 * 7 * MAX_EVERY_WEEKS
MAX_FEEDBACK_REQUIRED = 5
MAX_MIN_WORDS = 2000

# Rounds
JUST_OPENED_SECONDS = 120  # `/prompt post` this soon after a round opened starts no second one

# Prompts
MAX_PROMPT_TITLE_CHARS = 80  # the thread name adds "Round NNN · " within Discord's 100
MAX_PROMPT_TEXT_CHARS = 1500  # leaves room in a 4096-character embed for structure and deadlines
MAX_PROMPTS_PER_COHORT = 200
MAX_STRUCTURE_SECTIONS = 5  # a Discord modal holds at most five text inputs
MAX_SECTION_LABEL_CHARS = 45  # a Discord text-input label holds at most 45 characters
MAX_FEEDBACK_GUIDE_HEADINGS = 5  # questions a feedback guide asks: one form field each
MAX_IMPORT_BYTES = 256 * 1024

# Messages that list members (Discord's own limits; the adapter passes them to
# core.text.pack_lines, so another platform would pass its own)
MAX_MESSAGE_CHARS = 2000
MAX_MENTIONS_PER_MESSAGE = 100  # users one message may ping (its allowed_mentions)
