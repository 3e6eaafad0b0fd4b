"""Praxis's default prompt bank: a term of reflection prompts that works out of the box.

Why it exists: a facilitator who has just created a cohort should not have to write
twenty-odd prompts before the first round can go out. This bank gives every new cohort
a sound starting term, written for the helping professions as a whole (social work,
counselling, career coaching, probation, teaching), so a learner from any of them can
answer from their own practice.

How it is used: each new cohort receives its own copy of these drafts, in this order,
and its rounds work through them one prompt per round. The copy belongs to the cohort,
so facilitators can edit, add, remove or reorder prompts with the /prompt commands
without touching this module or any other cohort's bank.

The order follows a term: first meetings and listening, then boundaries, choice and
power, then hopes and futures, then setbacks and the supports that keep a practitioner
steady, and finally endings and a look back. Every prompt asks about a real moment with
a client, student or service user, and every prompt text ends with the same reminder to
de-identify the people involved.
"""

from __future__ import annotations

from bot.core.prompts import DEFAULT_STRUCTURE, PromptDraft

#: The one-sentence privacy reminder that closes every default prompt, worded once here
#: so that it reads the same in every round.
DEIDENTIFY_REMINDER = (
    "Before you post, change names, places and any telling details so that nobody you "
    "worked with could be recognised."
)

#: Gibbs-style stages, squeezed into the five fields a reflection form can hold.
GIBBS_STRUCTURE: tuple[str, ...] = (
    "Description",
    "Feelings",
    "Evaluation",
    "Analysis",
    "Action plan",
)


def _prompt(title: str, body: str, structure: tuple[str, ...] = DEFAULT_STRUCTURE) -> PromptDraft:
    """A draft whose text is ``body`` followed by the shared de-identification reminder."""
    return PromptDraft(title=title, text=f"{body} {DEIDENTIFY_REMINDER}", structure=structure)


DEFAULT_PROMPTS: tuple[PromptDraft, ...] = (
    # --- Weeks 1-3: meeting people and learning to listen -------------------------------
    _prompt(
        "A first meeting that set the tone",
        "Think of the very first time you met a client, student or service user and "
        "something in those opening minutes shaped everything that followed. What did you "
        "notice about them, and what do you imagine they noticed about you? Describe the "
        "small things, such as a greeting, a silence or the way the room was arranged.",
        (
            "What happened in those first minutes?",
            "What helped or hindered rapport?",
            "What did it shape later on?",
            "How will you open next time?",
        ),
    ),
    _prompt(
        "Listening instead of fixing",
        "Recall a conversation in which you caught yourself preparing an answer while the "
        "person was still talking. Perhaps you already had a plan in mind for them, and it "
        "crowded out what they were actually telling you. What changed when you put the plan "
        "down and listened?",
    ),
    _prompt(
        "Moving at the client's pace",
        "Think of a time you wanted things to move faster than the person you were helping "
        "was ready for. Maybe you pressed for an application, a decision or a disclosure "
        "before they had caught up with it. Describe what the pressure came from, how they "
        "responded, and what happened once you slowed down to their pace, or what you wish "
        "had happened.",
        (
            "What happened?",
            "Whose timetable was driving it?",
            "How did the person respond?",
            "How will you pace things next time?",
        ),
    ),
    _prompt(
        "Meeting someone whose world differs from yours",
        "Bring to mind a moment with a client or student whose culture, faith, class, age or "
        "life experience was very different from your own. Was there a point where you "
        "realised an assumption of yours did not fit their world? Reflect on what you did "
        "with that realisation and what they taught you.",
        (
            "What happened?",
            "Which assumption surfaced?",
            "What did you learn from them?",
            "What will you ask rather than assume?",
        ),
    ),
    # --- Weeks 4-6: boundaries -----------------------------------------------------------
    _prompt(
        "When warmth was read as something personal",
        "Think of a time a client took your empathy as personal interest, for example as "
        "friendship, flirtation or a special bond beyond your role. How did you realise what "
        "was happening, and how did you restore the professional boundary while keeping "
        "their dignity intact? Consider what, if anything, you took to supervision.",
        (
            "What happened?",
            "How did you notice the shift?",
            "How did you reset the boundary?",
            "What support did you seek?",
            "What will you do differently?",
        ),
    ),
    _prompt(
        "A request that tested a boundary",
        "Recall a moment when someone you were helping asked for something outside your "
        "role, such as your personal number, a favour, a gift or contact on social media. "
        "Describe what you felt in the moment and how you answered. Looking back, did your "
        "response protect the relationship as well as the boundary?",
        GIBBS_STRUCTURE,
    ),
    # --- Weeks 7-9: choice, power and ethics --------------------------------------------
    _prompt(
        "Their decision, not yours",
        "Think of a time you were tempted to make a decision for a client, perhaps about a "
        "relationship, a job, a course or where to live. How did you respect their "
        "self-determination while still sharing what you knew and any concerns about "
        "risk? Reflect on what it cost you to hold back, and what it gave them.",
        (
            "What was the decision?",
            "What did you want them to choose?",
            "How did you support their own choice?",
            "What did you learn about control?",
        ),
    ),
    _prompt(
        "Noticing the power you hold",
        "Recall an encounter in which the power difference between you and a client, "
        "student or service user became obvious, whether through a report you would write, "
        "a grade, a service you controlled or simply your title. How did it show up in what "
        "they said or held back? Describe one thing you did, or could have done, to share "
        "power more fairly.",
        (
            "What happened?",
            "Where did the power sit?",
            "How did it affect the person?",
            "How could you share power?",
        ),
    ),
    _prompt(
        "An ethical dilemma with no clean answer",
        "Think of a situation in which two things you value pulled in opposite directions, "
        "such as confidentiality and safety, or honesty and kindness. Describe the choice "
        "you faced, who you consulted and what you decided. Be honest about what still sits "
        "uneasily with you.",
        (
            "What was the dilemma?",
            "Which values were in tension?",
            "Who did you consult?",
            "What did you decide, and why?",
            "What still feels unresolved?",
        ),
    ),
    _prompt(
        "Working with someone who pushed back",
        "Recall a client or student who resisted, stalled or seemed to want two opposite "
        "things at once. What did you first make of their reluctance, and how did your view "
        "of it change? Reflect on what their pushback might have been protecting.",
        GIBBS_STRUCTURE,
    ),
    # --- Weeks 10-13: hopes, strengths and futures ---------------------------------------
    _prompt(
        "Hopes first, hurdles later",
        "Think of a session in which you invited someone to picture the future they would "
        "most want before either of you weighed up what stood in the way. What questions "
        "helped them describe their aspirations and preferred future? Describe what happened "
        "when the first obstacles came up and how you kept room for the hope.",
        (
            "What happened?",
            "What future did they describe?",
            "How did you handle the obstacles?",
            "Now what?",
        ),
    ),
    _prompt(
        "Helping a client test their own idea",
        "Recall a time a client shared a goal that you privately doubted was realistic. "
        "Did you tell them what you thought, or did you help them find a way to test the "
        "idea for themselves? Reflect on who ended up judging the idea, and what that meant "
        "for their confidence.",
        (
            "What was the idea?",
            "What was your first reaction?",
            "How was the idea tested?",
            "What will you try next time?",
        ),
    ),
    _prompt(
        "One job within a whole career",
        "Think of a person who believed that losing or leaving a particular job meant their "
        "working life was over. How did you help them see that job as one chapter in a "
        "career that develops over many years, without dismissing their grief for it? "
        "Consider whether they were ready for that wider view when you offered it.",
        (
            "What happened?",
            "What did the job mean to them?",
            "How did you widen the frame?",
            "Now what?",
        ),
    ),
    _prompt(
        "Starting from strengths",
        "Recall a time you deliberately looked for what was going well for someone rather "
        "than what was going wrong. Which strengths, skills or resources did you notice, "
        "and how did you name them so they could hear it? Describe how the conversation "
        "shifted afterwards.",
        (
            "What happened?",
            "Which strengths did you see?",
            "How did the person respond?",
            "How will you build on strengths?",
        ),
    ),
    # --- Weeks 14-16: mattering, and hope after setbacks -------------------------------
    _prompt(
        "Mattering as a person, not a role",
        "Think of a moment when you sensed that you mattered to a client as a person, not "
        "only as their worker, their teacher or the agency's representative. What made you "
        "aware of it, and how did you use that in the service of their goals? Consider how "
        "the work might differ if they saw you as just the role and themselves as just a "
        "case.",
        (
            "What happened?",
            "How did you know you mattered?",
            "How did you use that responsibly?",
            "Now what?",
        ),
    ),
    _prompt(
        "Keeping hope after a client's setback",
        "Recall a time a client relapsed, reoffended, dropped out or lost something they had "
        "worked hard for. What was your honest first reaction, and what did you show them? "
        "Reflect on how your response helped them keep some hope, or how it might have "
        "added to their sense of failure.",
        (
            "What was the setback?",
            "What was your first reaction?",
            "What did you show the person?",
            "How did hope survive, or not?",
            "What will you do next time?",
        ),
    ),
    _prompt(
        "Keeping hope after your own setback",
        "Think of a week when your own practice went badly: a session that fell flat, a "
        "complaint, a missed sign or a client who stopped coming. How did the setback affect "
        "your confidence and your hope for the work? Describe what helped you get back on "
        "your feet.",
        GIBBS_STRUCTURE,
    ),
    _prompt(
        "When a client did not come back",
        "Recall someone who stopped attending, missed appointments or quietly disappeared "
        "from your service. What stories did you tell yourself about why, and what did you "
        "do next? Reflect on where your responsibility began and ended.",
    ),
    # --- Weeks 17-20: humility, supervision and self-care -------------------------------
    _prompt(
        "Out of your depth",
        "Think of a moment when you realised a situation was beyond your training or "
        "experience. What told you that you were out of your depth, and what did you do in "
        "the next few minutes? Describe how you looked after the person while you found "
        "the help you needed.",
        (
            "What happened?",
            "What told you it was beyond you?",
            "What did you do next?",
            "What do you need to learn?",
        ),
    ),
    _prompt(
        "Taking it to supervision",
        "Recall a piece of work you brought to supervision, a mentor or a trusted colleague "
        "because you were unsure, stuck or worried. What made it hard or easy to ask for "
        "help? Reflect on what the conversation opened up that you could not see alone.",
        (
            "What did you bring?",
            "What made asking hard or easy?",
            "What did supervision open up?",
            "What will you bring next time?",
        ),
    ),
    _prompt(
        "Admitting a mistake to a client",
        "Think of a time you got something wrong with a client and chose to own it: you "
        "overstepped, misread them or let them down. How did you acknowledge the mistake "
        "or apologise, and how did they receive it? Describe what the apology did to the "
        "relationship and to you.",
        (
            "What went wrong?",
            "How did you own it?",
            "How did the person respond?",
            "What did it teach you?",
        ),
    ),
    _prompt(
        "Carrying the work home",
        "Recall a client or situation that stayed with you after the working day ended. "
        "What about it followed you home, and how did you notice its effect on your body, "
        "sleep or mood? Reflect on the self-care, support or limits that helped, and what "
        "you still need.",
        (
            "What stayed with you?",
            "How did it affect you?",
            "What helped you recover?",
            "What self-care will you commit to?",
        ),
    ),
    # --- Weeks 21-24: wider systems, feedback and learning from clients -----------------
    _prompt(
        "Working with the people around the client",
        "Think of a time when a family member, carer, teacher, employer or another agency "
        "shaped the work you were doing with someone. Whose voice was loudest, and whose "
        "was hardest to hear? Reflect on how you kept the client at the centre of the "
        "system around them.",
        (
            "Who was involved?",
            "Whose voice was loudest or quietest?",
            "How did you centre the client?",
            "Now what?",
        ),
    ),
    _prompt(
        "Feedback a client gave you",
        "Recall a moment when a client, student or service user told you, in words or "
        "otherwise, how your work with them was landing. It might have been thanks, a "
        "complaint or an offhand remark you still remember. Describe how you took it in and "
        "what, if anything, you changed.",
        (
            "What did they tell you?",
            "How did you feel hearing it?",
            "What truth was in it?",
            "What did you change?",
        ),
    ),
    _prompt(
        "Something a client taught you",
        "Think of a person you were supposed to be helping who ended up teaching you "
        "something about life, resilience or your own practice. What exactly did you learn, "
        "and how did you notice you were learning it? Reflect on how you let that humility "
        "shape your work since.",
    ),
    # --- Weeks 25-27: endings and looking back ------------------------------------------
    _prompt(
        "Ending a helping relationship well",
        "Recall the end of a piece of work, whether planned, sudden or unfinished. How did "
        "you prepare the person for the ending, and how did you mark what they had "
        "achieved? Describe what you felt as it closed and what you would keep or change "
        "about how it ended.",
        GIBBS_STRUCTURE,
    ),
    _prompt(
        "Your practice, then and now",
        "Choose one moment with a client from early in this term and one from recently. "
        "Describe what you did differently in the later moment and what made the "
        "difference. Reflect on which peer feedback in this cohort most shaped that change.",
        (
            "The earlier moment",
            "The recent moment",
            "What changed, and why?",
            "What will you keep working on?",
        ),
    ),
)
