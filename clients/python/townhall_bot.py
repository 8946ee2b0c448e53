#!/usr/bin/python3
"""townhall_bot: a messenger bot for townhall, as a third-party example.

A diaspora organization's chat bot: its users list the upcoming sessions in
their own time zone, ask a question in the live session, upvote the
questions of others and vote in the session's open polls. It talks to
townhall over gRPC with stubs generated from proto/ (the build writes them
to build/python), and to no messenger network at all:
`TownhallBot.handle(text)` takes a message and returns the reply, which is
what a real bot calls from its messenger library's message callback. Run
as a program, it simulates a chat:

    /usr/bin/python3 clients/python/townhall_bot.py \\
        --api-key-file=.local/bot_api_key \\
        --participant-file=.local/bot_participant_id \\
        --tz=Asia/Vladivostok  '/sessions' '/ask Qachon?' '/questions' '/upvote 1' \\
        '/poll' '/vote 1 2'

Each argument is one message (without any, messages are read from stdin,
one a line). See clients/python/README.md.

Credentials: an API key with the scopes read_schedule and submit_questions
(the bot acts for the participant its user is linked to, --participant), or
a join token (one session, one participant; it cannot list the schedule,
so /sessions shows that one session).

Only Debian's /usr/bin/python3 has python3-grpcio and python3-protobuf.
"""

import argparse
import base64
import datetime
import json
import os
import re
import sys
import time
import uuid
import zoneinfo

_HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_STUBS = os.path.normpath(os.path.join(_HERE, "..", "..", "build", "python"))

HELP = """Commands:
/sessions         upcoming sessions, in your time zone
/tz [zone]        show or set your time zone (IANA, e.g. Europe/Moscow)
/use <session>    choose the session for /ask, /questions, /upvote, /poll
/questions        the live session's top questions
/ask <text>       ask a question (a moderator approves it first)
/upvote <n|id>    upvote question n of the last /questions, or by id
/poll             the session's open polls, with numbered options
/vote <poll> <choice...>
                  vote in poll n of the last /poll (or by id): option
                  numbers (ranked: most preferred first), yes|no|abstain,
                  a rating, or words (a word cloud; several: commas)
/help             this text"""

# How to answer each kind of poll, for /poll.
VOTE_HINTS = {
    "SINGLE_CHOICE": "/vote {n} <option number>",
    "MULTIPLE_CHOICE": "/vote {n} <up to {k} option numbers>",
    "RANKED_CHOICE": "/vote {n} <option numbers, most preferred first>",
    "RATING_SCALE": "/vote {n} <{low} to {high}>",
    "WORD_CLOUD": "/vote {n} <a word, or up to {k} words, comma-separated>",
    "MOTION": "/vote {n} yes|no|abstain",
}


def load_stubs(stubs_dir=None):
    """Puts the generated stubs on sys.path and imports them.

    stubs_dir: the directory holding townhall/v1/*_pb2*.py; by default
    $TOWNHALL_PYTHON_DIR, else build/python of this source tree."""
    stubs_dir = stubs_dir or os.environ.get("TOWNHALL_PYTHON_DIR") or DEFAULT_STUBS
    if not os.path.isfile(os.path.join(stubs_dir, "townhall", "v1", "questions_pb2.py")):
        raise SystemExit(
            f"townhall_bot: no generated stubs in {stubs_dir}: build the "
            "townhall_python_stubs target, or pass --stubs=<build>/python")
    if stubs_dir not in sys.path:
        sys.path.insert(0, stubs_dir)
    global grpc, scheduling_pb2, scheduling_pb2_grpc, questions_pb2, questions_pb2_grpc
    global polls_pb2, polls_pb2_grpc
    import grpc  # noqa: F401 (Debian: python3-grpcio)
    from townhall.v1 import polls_pb2, polls_pb2_grpc  # noqa: F401
    from townhall.v1 import questions_pb2, questions_pb2_grpc  # noqa: F401
    from townhall.v1 import scheduling_pb2, scheduling_pb2_grpc  # noqa: F401


def join_token_claims(token):
    """The session and participant a join token names (its JWT claims "sid"
    and "pid"), read without verifying: the server verifies, the bot only
    needs to know where it may ask."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return claims.get("sid", ""), claims.get("pid", "")
    except (IndexError, ValueError):
        return "", ""


def format_local(timestamp, zone):
    """A protobuf Timestamp as wall-clock time in `zone`, e.g.
    "Sat 20 Mar 2027 18:00 (+10)"."""
    moment = datetime.datetime.fromtimestamp(timestamp.seconds, tz=zone)
    return moment.strftime("%a %d %b %Y %H:%M (%Z)")


def _describe_error(error, feature="question queue"):
    code = error.code()
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return f"Too fast, please wait a little: {error.details()}"
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return f"This townhall server has no {feature} yet."
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return f"Not allowed ({code.name}): {error.details()}"
    return f"Sorry, that failed ({code.name}): {error.details()}"


def _count(n, noun):
    return f"{n} {noun}" + ("" if n == 1 else "s")


class TownhallBot:
    """One chat's bot: holds the user's time zone, chosen session and the
    last question and poll listings. `handle` never raises on a server error: it
    answers with the server's message, as a chat bot should."""

    def __init__(self, channel, credential, participant_id="", session_id="",
                 time_zone="UTC", timeout=10.0, now=time.time):
        self.metadata = (("authorization", f"Bearer {credential}"),)
        self.scheduling = scheduling_pb2_grpc.SchedulingServiceStub(channel)
        self.questions = questions_pb2_grpc.QuestionServiceStub(channel)
        self.polls = polls_pb2_grpc.PollServiceStub(channel)
        self.participant_id = participant_id
        self.session_id = session_id
        self.zone = zoneinfo.ZoneInfo(time_zone)
        self.timeout = timeout
        self.now = now
        self.join_session = ""
        claims_session, claims_participant = join_token_claims(credential)
        if claims_session:  # a join token: one session, one participant
            self.join_session = claims_session
            self.session_id = self.session_id or claims_session
            self.participant_id = self.participant_id or claims_participant
        self.last_listing = []
        self.last_polls = []

    # -- the messenger side ------------------------------------------------

    def handle(self, text):
        """Answers one message."""
        command, _, argument = text.strip().partition(" ")
        argument = argument.strip()
        handlers = {
            "/start": lambda _: HELP, "/help": lambda _: HELP,
            "/sessions": self.sessions, "/tz": self.set_zone, "/use": self.use,
            "/questions": self.list_questions, "/ask": self.ask,
            "/upvote": self.upvote, "/poll": self.list_polls, "/vote": self.vote,
        }
        name = command.split("@")[0].lower()  # "/ask@bot" in groups
        handler = handlers.get(name)
        if handler is None:
            return "Unknown command.\n" + HELP
        try:
            return handler(argument)
        except grpc.RpcError as error:
            return _describe_error(error, "polls" if name in ("/poll", "/vote")
                                   else "question queue")

    # -- commands ------------------------------------------------------------

    def set_zone(self, argument):
        if not argument:
            return f"Your time zone is {self.zone.key}."
        try:
            self.zone = zoneinfo.ZoneInfo(argument)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return f"Unknown time zone {argument!r}; try e.g. Europe/Moscow or Asia/Tashkent."
        return f"Time zone set to {self.zone.key}."

    def use(self, argument):
        if not argument:
            return "Usage: /use <session id> (see /sessions)"
        self.session_id = argument
        self.last_listing = []
        self.last_polls = []
        return f"Questions now go to session {argument}."

    def upcoming(self):
        """Sessions that are live or still to come, soonest first."""
        states = [scheduling_pb2.SESSION_STATE_SCHEDULED, scheduling_pb2.SESSION_STATE_LIVE]
        if self.join_session:  # a join token reads its own session only
            session = self._call(self.scheduling.GetSession, scheduling_pb2.GetSessionRequest(
                session_id=self.join_session)).session
            sessions = [session] if session.state in states else []
        else:
            # Started up to a week ago (so long live sessions show), not ended.
            request = scheduling_pb2.ListSessionsRequest(states=states, page_size=100)
            request.start_after.seconds = int(self.now()) - 7 * 86400
            sessions = []
            while True:
                reply = self._call(self.scheduling.ListSessions, request)
                sessions.extend(reply.sessions)
                if not reply.next_page_token:
                    break
                request.page_token = reply.next_page_token
        now = self.now()
        sessions = [s for s in sessions
                    if s.state == scheduling_pb2.SESSION_STATE_LIVE
                    or s.start_time.seconds + s.duration.seconds > now]
        return sorted(sessions, key=lambda s: s.start_time.seconds)

    def sessions(self, argument):
        sessions = self.upcoming()
        if not sessions:
            return "No upcoming sessions."
        lines = [f"Upcoming sessions (times in {self.zone.key}):"]
        for number, s in enumerate(sessions[:10], 1):
            live = " [LIVE]" if s.state == scheduling_pb2.SESSION_STATE_LIVE else ""
            own = zoneinfo.ZoneInfo(s.time_zone) if s.time_zone else self.zone
            lines.append(f"{number}. {format_local(s.start_time, self.zone)}{live} {s.title}")
            lines.append(f"   local to the session: {format_local(s.start_time, own)} "
                         f"{s.time_zone}; {s.duration.seconds // 60} min; id {s.id}")
        if len(sessions) > 10:
            lines.append(f"... and {len(sessions) - 10} more.")
        return "\n".join(lines)

    def _session(self):
        """The session questions go to: the chosen one, else the live one."""
        if self.session_id:
            return self.session_id
        live = [s for s in self.upcoming() if s.state == scheduling_pb2.SESSION_STATE_LIVE]
        if not live:
            return ""
        self.session_id = live[0].id
        return self.session_id

    def list_questions(self, argument):
        session = self._session()
        if not session:
            return "No session is live; choose one with /use <session id>."
        reply = self._call(self.questions.ListQuestions, questions_pb2.ListQuestionsRequest(
            session_id=session, view=questions_pb2.ListQuestionsRequest.VIEW_OPEN,
            order=questions_pb2.ListQuestionsRequest.ORDER_TOP, page_size=10))
        self.last_listing = [q.id for q in reply.questions]
        if not reply.questions:
            return "No questions yet. Ask one with /ask <text>."
        lines = [f"Top questions ({reply.total_size} open):"]
        for number, q in enumerate(reply.questions, 1):
            pinned = " [answering now]" if q.status == questions_pb2.QUESTION_STATUS_PINNED else ""
            mine = " (your vote)" if q.voted_by_caller else ""
            lines.append(f"{number}. [{q.votes} votes{mine}]{pinned} {q.text}  (id {q.id})")
        return "\n".join(lines)

    def ask(self, text):
        if not text:
            return "Usage: /ask <your question>"
        session = self._session()
        if not session:
            return "No session is live; choose one with /use <session id>."
        # One request id per message: a retry (UNAVAILABLE, a lost reply)
        # never submits twice. A real bot would derive it from the
        # messenger's chat and message ids.
        request = questions_pb2.SubmitQuestionRequest(
            session_id=session, participant_id=self.participant_id, text=text,
            request_id=f"bot-{uuid.uuid4()}")
        reply = self._call(self.questions.SubmitQuestion, request, retries=2)
        q = reply.question
        status = questions_pb2.QuestionStatus.Name(q.status).removeprefix("QUESTION_STATUS_")
        lines = [f"Question submitted (id {q.id}), status {status}."]
        if q.status == questions_pb2.QUESTION_STATUS_PENDING:
            lines.append("A moderator will look at it shortly.")
        if reply.similar_questions:
            lines.append("Similar questions already asked (upvote one of them instead?):")
            for similar in reply.similar_questions[:3]:
                lines.append(f"- {similar.text}  (id {similar.question_id})")
        return "\n".join(lines)

    def upvote(self, argument):
        if not argument:
            return "Usage: /upvote <number from /questions, or question id>"
        session = self._session()
        if not session:
            return "No session is live; choose one with /use <session id>."
        question_id = argument
        if argument not in self.last_listing and argument.isdigit() \
                and 1 <= int(argument) <= len(self.last_listing):
            question_id = self.last_listing[int(argument) - 1]
        reply = self._call(self.questions.UpvoteQuestion, questions_pb2.UpvoteQuestionRequest(
            session_id=session, question_id=question_id, participant_id=self.participant_id),
            retries=2)
        if reply.changed:
            return f"Upvoted question {question_id}: {reply.votes} votes now."
        return f"You had already upvoted question {question_id}: {reply.votes} votes."

    def open_polls(self, session):
        """The session's OPEN polls, oldest first."""
        request = polls_pb2.ListPollsRequest(session_id=session, page_size=100)
        polls = []
        while True:
            reply = self._call(self.polls.ListPolls, request)
            polls.extend(p for p in reply.polls if p.state == polls_pb2.POLL_STATE_OPEN)
            if not reply.next_page_token:
                return polls
            request.page_token = reply.next_page_token

    def list_polls(self, argument):
        session = self._session()
        if not session:
            return "No session is live; choose one with /use <session id>."
        polls = self.open_polls(session)
        self.last_polls = [p.id for p in polls]
        if not polls:
            return "No open polls right now."
        lines = [f"Open polls ({len(polls)}):"]
        for number, p in enumerate(polls, 1):
            kind = polls_pb2.PollKind.Name(p.kind).removeprefix("POLL_KIND_")
            voted = " (you voted)" if p.voted else ""
            lines.append(f"{number}. {p.question}  [{kind.lower().replace('_', ' ')}, "
                         f"{_count(p.ballot_count, 'ballot')}{voted}]  (id {p.id})")
            tallies = {t.option_id: t.votes for t in p.results.tallies} \
                if p.HasField("results") else {}
            for option_number, option in enumerate(p.options, 1):
                votes = f" ({_count(tallies[option.id], 'vote')})" if option.id in tallies else ""
                lines.append(f"   {option_number}) {option.text}{votes}")
            if p.HasField("results") and p.results.words:
                top = ", ".join(f"{w.text} ({w.count})" for w in p.results.words[:5])
                lines.append(f"   so far: {top}")
            hint = VOTE_HINTS.get(kind, "/vote {n} <choice>")
            if kind == "WORD_CLOUD" and (p.max_choices or 1) == 1:
                hint = "/vote {n} <a word>"
            lines.append("   " + hint.format(n=number, k=p.max_choices or 1,
                                             low=p.scale_min, high=p.scale_max))
        return "\n".join(lines)

    def _ballot(self, poll, choices):
        """The Ballot for `choices` (the text after the poll), or an error
        message for the user."""
        kind = poll.kind
        if kind == polls_pb2.POLL_KIND_WORD_CLOUD:
            words = [w.strip() for w in choices.split(",")] if "," in choices else (
                [choices] if (poll.max_choices or 1) == 1 else choices.split())
            words = [w for w in words if w]
            return polls_pb2.Ballot(words=words) if words else "Which word?"
        if kind == polls_pb2.POLL_KIND_RATING_SCALE:
            if not re.fullmatch(r"-?\d+", choices):
                return f"Give a number from {poll.scale_min} to {poll.scale_max}."
            return polls_pb2.Ballot(rating=int(choices))
        ids = []
        for word in choices.replace(",", " ").split():
            by_id = [o.id for o in poll.options if o.id.lower() == word.lower()]
            if by_id:
                ids.append(by_id[0])
            elif word.isdigit() and 1 <= int(word) <= len(poll.options):
                ids.append(poll.options[int(word) - 1].id)
            else:
                return f"No option {word!r} in this poll; see /poll."
        return polls_pb2.Ballot(option_ids=ids) if ids else "Which option? See /poll."

    def vote(self, argument):
        which, _, choices = argument.partition(" ")
        choices = choices.strip()
        if not which or not choices:
            return "Usage: /vote <poll number from /poll, or poll id> <choice...>"
        session = self._session()
        if not session:
            return "No session is live; choose one with /use <session id>."
        poll_id = which
        if which.isdigit() and which not in self.last_polls:
            if not self.last_polls:
                self.last_polls = [p.id for p in self.open_polls(session)]
            if not 1 <= int(which) <= len(self.last_polls):
                return f"There is no poll {which}; see /poll."
            poll_id = self.last_polls[int(which) - 1]
        poll = self._call(self.polls.GetPoll, polls_pb2.GetPollRequest(
            session_id=session, poll_id=poll_id)).poll
        ballot = self._ballot(poll, choices)
        if isinstance(ballot, str):
            return ballot
        # As for /ask: one request id per message, so a retry votes once.
        reply = self._call(self.polls.CastBallot, polls_pb2.CastBallotRequest(
            session_id=session, poll_id=poll_id, participant_id=self.participant_id,
            ballot=ballot, request_id=f"bot-{uuid.uuid4()}"), retries=2)
        chosen = {o.id: o.text for o in poll.options}
        what = ", ".join(chosen.get(i, i) for i in ballot.option_ids) or \
            ", ".join(ballot.words) or str(ballot.rating)
        if not reply.changed:
            return f"Your ballot was already in: {what}."
        lines = [f"Voted in poll {poll_id}: {what}. "
                 f"{_count(reply.poll.ballot_count, 'ballot')} so far."]
        results = reply.poll.results
        if reply.poll.HasField("results") and results.tallies:
            votes = {t.option_id: t.votes for t in results.tallies}
            lines.append("Results so far: " + ", ".join(
                f"{o.text} {votes.get(o.id, 0)}" for o in reply.poll.options))
        return "\n".join(lines)

    # -- gRPC ----------------------------------------------------------------

    def _call(self, method, request, retries=0):
        """Calls with a deadline; retries UNAVAILABLE (same request, so the
        same request_id) `retries` times."""
        for attempt in range(retries + 1):
            try:
                return method(request, metadata=self.metadata, timeout=self.timeout)
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or attempt == retries:
                    raise
                time.sleep(0.2 * 2 ** attempt)


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def _local_zone():
    """The machine's IANA zone ($TZ, /etc/timezone), else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        return name
    try:
        return _read("/etc/timezone") or "UTC"
    except OSError:
        return "UTC"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="A messenger bot for townhall, simulated on the command line.")
    parser.add_argument("messages", nargs="*",
                        help="messages to answer, in order (default: stdin, one a line)")
    parser.add_argument("--server",
                        default=os.environ.get("TOWNHALL_ADDRESS")
                        or os.environ.get("TOWNHALL_ADDR") or "127.0.0.1:50051",
                        help="townhall address (plaintext; default $TOWNHALL_ADDRESS, as for "
                        "townhallctl, else $TOWNHALL_ADDR, else 127.0.0.1:50051)")
    parser.add_argument("--stubs", help="generated python stubs (default $TOWNHALL_PYTHON_DIR, "
                        f"else {DEFAULT_STUBS})")
    credential = parser.add_mutually_exclusive_group(required=True)
    credential.add_argument("--api-key-file", help="API key (read_schedule, submit_questions)")
    credential.add_argument("--join-token-file", help="a participant's join token")
    parser.add_argument("--participant", default="",
                        help="participant id the bot's user is (API key; a join token names it)")
    parser.add_argument("--participant-file", help="file holding --participant")
    parser.add_argument("--session", default="",
                        help="session for questions and polls (default: the live one)")
    parser.add_argument("--tz", default=None,
                        help="the user's IANA time zone (default: this machine's)")
    args = parser.parse_args(argv)

    load_stubs(args.stubs)
    secret = _read(args.api_key_file or args.join_token_file)
    participant = args.participant or (_read(args.participant_file) if args.participant_file else "")
    zone = args.tz or _local_zone()
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        parser.error(f"--tz: unknown time zone {zone!r}")
    with grpc.insecure_channel(args.server) as channel:
        bot = TownhallBot(channel, secret, participant_id=participant,
                          session_id=args.session, time_zone=zone)
        messages = args.messages or (line.rstrip("\n") for line in sys.stdin)
        for message in messages:
            if not message.strip():
                continue
            print(f"> {message}")
            print(bot.handle(message))
            print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
