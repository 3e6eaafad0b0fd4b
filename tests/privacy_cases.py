"""A labelled set of invented reflection snippets for the identifier detector.

Everything here is made up. E-mail addresses use reserved example domains
(example.org, example.com, example.net); UK numbers come from Ofcom's ranges for
drama (07700 900xxx, 020 7946 0xxx, 0113 496 0xxx, 01632 960xxx); US numbers use the
fictional 555-01xx exchange; postcodes use the unallocated "ZZ" area and US ZIPs are
00000-style placeholders. Names and streets are invented and belong to no one.

Each case is a short text in the voice of reflective practice and the set of
(kind, text) findings a careful reader would want flagged. The negatives are chosen to
be tricky: numbers, session dates, times, money, cue words in ordinary use.
"""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    text: str
    expected: frozenset[tuple[str, str]]


def _case(text: str, *expected: tuple[str, str]) -> Case:
    return Case(text, frozenset(expected))


EMAIL, PHONE, ADDRESS, DOB, NAME = "email", "phone", "address", "date_of_birth", "name"

POSITIVES: list[Case] = [
    # --- e-mail addresses
    _case(
        "She emailed me from jo.bloggs@example.org late at night, which I noticed I "
        "wanted to answer straight away.",
        (EMAIL, "jo.bloggs@example.org"),
    ),
    _case(
        "Her support worker is k.ahmed@example.com if we need to coordinate.",
        (EMAIL, "k.ahmed@example.com"),
    ),
    _case(
        "He signed the form as dreamer_1999@example.net, and I smiled at the hope in it.",
        (EMAIL, "dreamer_1999@example.net"),
    ),
    _case(
        "I was asked to copy her mum in (parent.contact+school@example.org) and felt "
        "uneasy about whose voice the emails would carry.",
        (EMAIL, "parent.contact+school@example.org"),
    ),
    _case("Contact on the referral: SAM.TAYLOR@EXAMPLE.ORG", (EMAIL, "SAM.TAYLOR@EXAMPLE.ORG")),
    _case(
        "Email me at first.last@mail.example.org, she wrote on the back of the worksheet.",
        (EMAIL, "first.last@mail.example.org"),
    ),
    # --- phone numbers
    _case(
        "She gave me her mobile, 07700 900123, and asked me not to share it with her dad.",
        (PHONE, "07700 900123"),
    ),
    _case("Her landline is 020 7946 0018, but she rarely answers it.", (PHONE, "020 7946 0018")),
    _case("The number he left with reception was +44 7700 900456.", (PHONE, "+44 7700 900456")),
    _case("He asked me to call back on (0113) 496 0321 after five.", (PHONE, "(0113) 496 0321")),
    _case("His cousin in the States can be reached on (212) 555-0147.", (PHONE, "(212) 555-0147")),
    _case(
        "Try 415.555.0132 if the first number fails, the duty log said.",
        (PHONE, "415.555.0132"),
    ),
    _case(
        "She wrote her number as 07700900789 on the sign-in sheet, in capitals of a kind.",
        (PHONE, "07700900789"),
    ),
    _case("Her sister's cell is +1 202 555 0186.", (PHONE, "+1 202 555 0186")),
    _case("The foster carer's number is 01632 960555.", (PHONE, "01632 960555")),
    _case(
        "The office number on her letter was +44 (0)20 7946 0991.",
        (PHONE, "+44 (0)20 7946 0991"),
    ),
    # --- addresses and postcodes
    _case(
        "She lives at 14 Larkspur Close with her nan and two dogs.",
        (ADDRESS, "14 Larkspur Close"),
    ),
    _case(
        "We did a home visit to 221 Orchard Road, ZZ9 9ZZ, and I was struck by how quiet it was.",
        (ADDRESS, "221 Orchard Road, ZZ9 9ZZ"),
    ),
    _case(
        "He is staying at 7b Mill Lane until the hostel place comes through.",
        (ADDRESS, "7b Mill Lane"),
    ),
    _case(
        "Her postcode is ZZ1 1ZZ, which she says everyone judges her for.",
        (ADDRESS, "ZZ1 1ZZ"),
    ),
    _case(
        "The placement is at 39 Kingfisher Way, near the park she loves.",
        (ADDRESS, "39 Kingfisher Way"),
    ),
    _case(
        "He moved to 1200 Elmwood Ave, Anytown, OR 00000 last spring.",
        (ADDRESS, "1200 Elmwood Ave, Anytown, OR 00000"),
    ),
    _case(
        "Letters go to 5 St Anne's Court now, since the eviction.",
        (ADDRESS, "5 St Anne's Court"),
    ),
    _case("She's sofa-surfing near 18 High St. most weeks.", (ADDRESS, "18 High St.")),
    _case(
        "The family now live in Anytown, CA 00000 and the move seems to have helped.",
        (ADDRESS, "Anytown, CA 00000"),
    ),
    # --- dates of birth
    _case("Her DOB is 14/02/1998 and she is dreading turning thirty.", (DOB, "14/02/1998")),
    _case(
        "He was born on 3 March 2006, so he is still under the youth team.",
        (DOB, "3 March 2006"),
    ),
    _case(
        "Date of birth: 1 January 1990. I wrote it down before I thought.", (DOB, "1 January 1990")
    ),
    _case("His d.o.b. is 09.11.2003 according to the file.", (DOB, "09.11.2003")),
    _case("Her birthday is 21st June and she wants to spend it on her own.", (DOB, "21st June")),
    _case("He was born 2004-07-15 in a country he rarely mentions.", (DOB, "2004-07-15")),
    _case(
        "She told me she was born on the 5th of May 2001, as if to prove she was an adult.",
        (DOB, "5th of May 2001"),
    ),
    _case("He was born in Leeds on 12 August 1999.", (DOB, "12 August 1999")),
    _case(
        "The front sheet lists 12/06/2002 (DOB) and nothing about who she is.",
        (DOB, "12/06/2002"),
    ),
    _case("Born March 4, 1987, he said, like it was a confession.", (DOB, "March 4, 1987")),
    # --- names after cues
    _case(
        "My client Maria Lopez was quiet today, and I noticed I filled the silence.",
        (NAME, "Maria Lopez"),
    ),
    _case("Mr Thompson said he had not slept since the letter arrived.", (NAME, "Thompson")),
    _case(
        "I am working with a student called Aisha Khan who is thinking of leaving the course.",
        (NAME, "Aisha Khan"),
    ),
    _case("I met Mrs O'Connor at the door and she would not look at me.", (NAME, "O'Connor")),
    _case("Dr. Patel from the GP surgery phoned me after the session.", (NAME, "Patel")),
    _case(
        "The patient, Daniel Okafor, refused the medication and I respected that.",
        (NAME, "Daniel Okafor"),
    ),
    _case("The service user Priya wants to go back to college in September.", (NAME, "Priya")),
    _case("A young person named Tyler told me he feels invisible at home.", (NAME, "Tyler")),
    _case("Ms Nowak and I agreed a plan for the next fortnight.", (NAME, "Nowak")),
    _case("Mx Rivers asked that I use their first name in sessions.", (NAME, "Rivers")),
    _case("The client José Martínez brought his brother along.", (NAME, "José Martínez")),
    _case("Miss Fairweather, his old teacher, came up again and again.", (NAME, "Fairweather")),
    _case(
        "Client Hannah McAllister arrived late and apologised twice.", (NAME, "Hannah McAllister")
    ),
    _case("Mr Thompson's daughter rang to cancel.", (NAME, "Thompson")),
    _case("She has a little girl called Poppy who comes to every session.", (NAME, "Poppy")),
    _case("My pupil Zoë seemed brighter this week.", (NAME, "Zoë")),
    _case("Mr J. Hargreaves wrote to complain about the service.", (NAME, "J. Hargreaves")),
    _case("Notes header. Client: Tom Baker, seen at home.", (NAME, "Tom Baker")),
    _case("From abroad she rang on 0044 7700 900321.", (PHONE, "0044 7700 900321")),
    # --- several at once
    _case(
        "My client Maria Lopez (m.lopez@example.org) asked me to ring 07700 900111 instead.",
        (NAME, "Maria Lopez"),
        (EMAIL, "m.lopez@example.org"),
        (PHONE, "07700 900111"),
    ),
    _case(
        "Mrs Adeyemi, born 4 April 1975, lives at 8 Rowan Drive with her son.",
        (NAME, "Adeyemi"),
        (DOB, "4 April 1975"),
        (ADDRESS, "8 Rowan Drive"),
    ),
]

NEGATIVES: list[Case] = [
    _case("I noticed I wanted to rescue her from the situation, and I sat with that."),
    _case("My client was anxious at the start and kept checking the clock."),
    _case("The Client Services team rang to ask whether the referral had come through."),
    _case("I called her back at 9:30 the next morning to check in."),
    _case("We named the feeling together: shame, mostly, and some anger underneath."),
    _case("She missed her Dr. visit again, which worried me more than I let on."),
    _case("He brought his old Mr Men books to the session and read one aloud."),
    _case("This was session 2 of 5, so I tried to keep the ending in mind."),
    _case("My reflection is about 1,450 words, which is over the limit of 1,200."),
    _case("The hardship grant was £250, paid in two instalments."),
    _case("We met in Room 12 on the second floor because Room 4 was booked."),
    _case("Week 3 felt different; the young person was quieter than usual."),
    _case("On 3 March I met her for the first time at the drop-in."),
    _case("Our session on 12/03 ran over by twenty minutes, and I let it."),
    _case("Attendance rose by 40% over the term, from 12 to 17 young people."),
    _case("The student said she felt invisible in class."),
    _case("Client said nothing for the first ten minutes and I let the silence be."),
    _case("Then she laughed, and something in the room loosened."),
    _case("I asked my client whether Tuesday still worked for her."),
    _case("The Student Union runs a peer support group on Thursdays."),
    _case("In 2019 he left school, and by 2021 he was sleeping on a friend's sofa."),
    _case("She has been on the waiting list for 18 months and 3 weeks."),
    _case("I sat with him through 3 Crown Court hearings this month."),
    _case("I was born in a small town myself, and I recognised her longing to leave."),
    _case("Her birthday is next week and she is dreading it."),
    _case("He was born in 1987, the same year as my brother, which unsettled me."),
    _case("I rang the duty line at 14:15 and waited 25 minutes."),
    _case("Between 2022-2023 the service lost three key workers."),
    _case("She scored 14 on the GAD-7, down from 19 in week 1."),
    _case("We used the 0-10 scale; today she said 6, last time 3."),
    _case("He owes about £1,200 in rent arrears and £340 on his phone contract."),
    _case("I felt like a student again, nervous and eager to please."),
    _case("As a student social worker, I am still learning where my limits are."),
    _case("Mr Right, she joked, had never turned up, so she stopped waiting."),
    _case("We talked about Dr Who for most of the session, which he loves."),
    _case("The young person I work with wanted to talk about football."),
    _case("With this client I felt out of my depth, and said so in supervision."),
    _case("Student Finance England delayed his loan again."),
    _case("I called Social Services after the session, as agreed with my supervisor."),
    _case("She called Childline once, years ago, and said it helped."),
    _case("The team called Social Services straight away."),
    _case("Her son is 7 and her daughter is 12, and both are struggling."),
    _case("We have 6 sessions left out of 12, and the ending is already in the room."),
    _case("In January she started college; by March she had stopped going."),
    _case("The form had boxes for name, address and date of birth, which felt clinical."),
    _case("He asked for my phone number and I explained the boundary."),
    _case("She said her email had been hacked and she felt exposed."),
    _case("I keep thinking about the 2 a.m. texts he described."),
    _case("Our 10:00–11:30 slot works better for the family."),
    _case("I used the Patient Health Questionnaire with her for the first time."),
    _case("The Young Person's Advisor joined the meeting halfway through."),
    _case("MS Teams kept freezing, so we finished the review by phone."),
    _case("He said he had been a student at 16 and a father at 19."),
    _case("Session 4: 50 minutes, 1 interpreter, 2 cups of tea."),
    _case("The probation order runs for 12 months from 01/04/2024."),
    _case("I noticed I was called to rescue him again."),
    _case("The group was called Moving On, and she liked the name."),
    _case("I'm a student called to this work by my own history."),
    _case("The book she brought was called Still Here, and she read me a page."),
    _case("We walked 2 laps of the close where she lives, talking the whole way."),
    _case("He was first-born and carries it like a job title."),
    _case("Module code SW1 2000 reflective task, cohort of 24."),
    _case("The funding covers 1 2 3 4 5 6 7 8 9 10 sessions, I joked in supervision."),
    _case("Case notes for 2024/25 are due on 30.06.2025 at 5pm."),
    _case("I wrote 3 pages in my journal afterwards and felt lighter."),
    _case("Dr appointment first, then the food bank, then school pickup at 3.15."),
    _case("Our session on Monday 14 October was the hardest yet."),
    _case("The reference ZZ number on the letter meant nothing to her."),
    _case("My client FaceTimed me at midnight, and I did not pick up."),
    _case("I will call her Sam, which is not her name, to keep her safe here."),
    _case("Client A and Client B had both been excluded from the same school."),
    # A known false alarm, kept so the score stays honest: a sitcom title after "Mrs".
    _case("Mrs Brown's Boys was on in the waiting room and she laughed at it."),
]

CASES: list[Case] = POSITIVES + NEGATIVES
