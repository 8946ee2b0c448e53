#!/usr/bin/python3
"""End-to-end: the reference event's question queue through a real
townhalld, driven only by Debian's python3-grpcio with stubs generated from
proto/.

The scenario (../shared/scenario): the government's video conference with
diaspora organizations in Russia. Delegates of three organizations submit
questions in Uzbek (Latin and Cyrillic), Russian and English, one of them
anonymously; a moderator approves, edits then approves, rejects
advertising with a reason, merges the Cyrillic duplicate of a Latin
question, pins, marks answered (live and in writing) and undoes one
answer; delegates vote; a moderator's watcher and a delegate's watcher see
everything live (the delegate's never the anonymous author); finally the
moderation log shows every moderator action of the scenario, in order.

Run: TOWNHALLD=<build>/services/townhalld/townhalld \
     TOWNHALL_PYTHON_DIR=<build>/python /usr/bin/python3 test_questions_e2e.py
"""

import csv
import io
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import townhalld_fixture  # noqa: E402

import grpc  # noqa: E402
from google.protobuf import duration_pb2, timestamp_pb2  # noqa: E402

TIMEOUT = 10

FIXTURE = None
qs = qs_grpc = sched = sched_grpc = reg = reg_grpc = None

# The moderator actions of the scenario, in order (ModerationAction.action).
EXPECTED_ACTIONS = [
    "approve",        # the Uzbek (Latin) question
    "edit_approve",   # the Russian one, tidied up
    "reject",         # the advertisement
    "approve",        # the anonymous question
    "approve",        # the English question
    "merge",          # the Cyrillic duplicate into the Latin question
    "pin",            # the merged question: answering now
    "answer",         # answered live
    "pin",            # the anonymous question
    "answer",         # answered in writing...
    "undo",           # ...with a mistake: undone
    "answer",         # answered in writing, corrected
]


def setUpModule():
    global FIXTURE, qs, qs_grpc, sched, sched_grpc, reg, reg_grpc
    sched, sched_grpc, _, _ = townhalld_fixture.import_stubs()
    from townhall.v1 import questions_pb2, questions_pb2_grpc  # noqa: E402
    from townhall.v1 import registration_pb2, registration_pb2_grpc  # noqa: E402
    qs, qs_grpc = questions_pb2, questions_pb2_grpc
    reg, reg_grpc = registration_pb2, registration_pb2_grpc
    FIXTURE = townhalld_fixture.TownhalldFixture()
    FIXTURE.start()


def tearDownModule():
    if FIXTURE is not None:
        FIXTURE.stop()


auth = townhalld_fixture.auth


class Watcher:
    """Collects a WatchQueue stream on a thread."""

    def __init__(self, stub, session_id, token):
        self.events = []
        self.call = stub.WatchQueue(qs.WatchQueueRequest(session_id=session_id),
                                    metadata=auth(token), timeout=120)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for event in self.call:
                self.events.append(event)
        except grpc.RpcError:
            pass

    def wait(self, predicate, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate(list(self.events)):
                return True
            time.sleep(0.05)
        return False

    def wait_for_change(self, kind, question_id, timeout=10):
        def seen(events):
            return any(e.WhichOneof("event") == "change" and e.change.kind == kind and
                       any(q.id == question_id for q in e.change.questions)
                       for e in events)
        return self.wait(seen, timeout)

    def stop(self):
        self.call.cancel()
        self.thread.join(5)


class ReferenceEventQuestionsTest(unittest.TestCase):

    def setUp(self):
        self.tenant_id, self.token = FIXTURE.create_tenant()
        self.channel = FIXTURE.channel()
        self.md = auth(self.token)
        self.q = qs_grpc.QuestionServiceStub(self.channel)
        self.sched = sched_grpc.SchedulingServiceStub(self.channel)
        self.reg = reg_grpc.RegistrationServiceStub(self.channel)

    def tearDown(self):
        self.channel.close()

    def call(self, stub_method, request, token=None):
        return stub_method(request, metadata=auth(token) if token else self.md,
                           timeout=TIMEOUT)

    def refused(self, code, stub_method, request, token=None):
        with self.assertRaises(grpc.RpcError) as raised:
            self.call(stub_method, request, token)
        self.assertEqual(raised.exception.code(), code, raised.exception.details())
        return raised.exception

    def make_session(self):
        start = int(time.time()) + 600
        session = self.call(self.sched.CreateSession, sched.CreateSessionRequest(
            session=sched.Session(
                title="Hukumat va vatandoshlar muloqoti / Dialogue with compatriots",
                start_time=timestamp_pb2.Timestamp(seconds=start),
                duration=duration_pb2.Duration(seconds=3 * 3600),
                time_zone="Asia/Tashkent", format=sched.SESSION_FORMAT_ONLINE,
                capacity=200),
            publish=True)).session
        self.call(self.sched.StartSession, sched.StartSessionRequest(session_id=session.id))
        return session.id

    def people(self, session_id):
        """Six delegates of three organizations (the anonymous asker alone in
        the third), and a moderator; registered, with join tokens."""
        orgs = []
        for name, city in [("Moskva oʻzbeklari jamiyati", "Moskva"),
                           ("Sankt-Peterburg vatandoshlari", "Sankt-Peterburg"),
                           ("Qozon oʻzbek madaniyat markazi", "Qozon")]:
            orgs.append(self.call(self.reg.CreateOrganization, reg.CreateOrganizationRequest(
                organization=reg.Organization(name=name, country_code="RU", city=city))
            ).organization.id)
        delegates = []
        for i, org_index in enumerate([0, 0, 1, 1, 2, 0]):
            delegates.append(self.member(session_id, f"Delegat {i + 1} Gʻofurov",
                                         orgs[org_index], f"delegate{i}",
                                         reg.SESSION_ROLE_PARTICIPANT))
        moderator = self.member(session_id, "Moderator Aziza Rahimova", orgs[1],
                                "moderator", reg.SESSION_ROLE_MODERATOR)
        return delegates, moderator

    def member(self, session_id, name, org, email, role):
        p = self.call(self.reg.CreateParticipant, reg.CreateParticipantRequest(
            participant=reg.Participant(display_name=name, organization_id=org,
                                        email=f"{email}@example.org"))).participant
        self.call(self.reg.Register, reg.RegisterRequest(
            session_id=session_id, participant_id=p.id, role=role))
        token = self.call(self.reg.IssueJoinToken, reg.IssueJoinTokenRequest(
            session_id=session_id, participant_id=p.id)).token
        return {"id": p.id, "org": org, "token": token}

    def submit(self, session_id, who, text, language, anonymous=False, request_id=""):
        return self.call(self.q.SubmitQuestion, qs.SubmitQuestionRequest(
            session_id=session_id, participant_id=who["id"], text=text,
            language=language, anonymous=anonymous, request_id=request_id),
            who["token"])

    def test_reference_event_question_queue(self):
        sid = self.make_session()
        delegates, moderator = self.people(sid)
        mod = moderator["token"]
        anon_author = delegates[4]
        watcher = Watcher(self.q, sid, mod)
        delegate_watcher = Watcher(self.q, sid, delegates[5]["token"])
        self.assertTrue(watcher.wait(lambda e: len(e) >= 1))
        self.assertTrue(delegate_watcher.wait(lambda e: len(e) >= 1))
        self.assertEqual(watcher.events[0].WhichOneof("event"), "snapshot")

        # Submissions (pre-moderation: all PENDING).
        uz = self.submit(sid, delegates[0],
                         "Oʻzbekistonga qaytgan vatandoshlar uchun uy-joy imtiyozlari bormi?",
                         "uz-Latn", request_id="uz-1").question
        self.assertEqual(uz.status, qs.QUESTION_STATUS_PENDING)
        again = self.submit(sid, delegates[0],
                            "Oʻzbekistonga qaytgan vatandoshlar uchun uy-joy imtiyozlari bormi?",
                            "uz-Latn", request_id="uz-1").question
        self.assertEqual(again.id, uz.id)  # a retry stores nothing twice
        ru_text = "как получить консульскую справку быстрее???"
        ru = self.submit(sid, delegates[1], ru_text, "ru").question
        ad = self.submit(sid, delegates[3], "Buy cheap flights at example.com!!!", "en").question
        anon = self.submit(sid, anon_author,
                           "Mehnat migrantlari uchun sugʻurta qachon joriy etiladi?",
                           "uz-Latn", anonymous=True).question
        self.assertTrue(anon.anonymous)
        en = self.submit(sid, delegates[5],
                         "Will the consulate in Kazan open on Saturdays?", "en").question

        # A delegate sees no one else's pending question.
        self.refused(grpc.StatusCode.NOT_FOUND, self.q.GetQuestion,
                     qs.GetQuestionRequest(session_id=sid, question_id=ru.id),
                     delegates[0]["token"])
        # Nor may a delegate moderate.
        self.refused(grpc.StatusCode.PERMISSION_DENIED, self.q.ApproveQuestion,
                     qs.ApproveQuestionRequest(session_id=sid, question_id=uz.id),
                     delegates[0]["token"])

        # 1. approve, 2. edit then approve, 3. reject with a reason.
        self.call(self.q.ApproveQuestion, qs.ApproveQuestionRequest(
            session_id=sid, question_id=uz.id), mod)
        ru_edited = "Konsullik maʼlumotnomasini qanday qilib tezroq olish mumkin? / " \
                    "Как быстрее получить консульскую справку?"
        edited = self.call(self.q.ApproveQuestion, qs.ApproveQuestionRequest(
            session_id=sid, question_id=ru.id, edited_text=ru_edited), mod).question
        self.assertEqual(edited.text, ru_edited)
        self.assertEqual(edited.original_text, ru_text)
        reason = "Reklama taqiqlangan / Advertising is not allowed"
        self.call(self.q.RejectQuestion, qs.RejectQuestionRequest(
            session_id=sid, question_id=ad.id, reason=reason), mod)
        seen = self.call(self.q.GetQuestion, qs.GetQuestionRequest(
            session_id=sid, question_id=ad.id), delegates[3]["token"]).question
        self.assertEqual(seen.status, qs.QUESTION_STATUS_REJECTED)
        self.assertEqual(seen.reject_reason, reason)
        self.refused(grpc.StatusCode.NOT_FOUND, self.q.GetQuestion,
                     qs.GetQuestionRequest(session_id=sid, question_id=ad.id),
                     delegates[0]["token"])
        # 4., 5. approve the anonymous and the English question.
        for question in (anon, en):
            self.call(self.q.ApproveQuestion, qs.ApproveQuestionRequest(
                session_id=sid, question_id=question.id), mod)

        # The Cyrillic duplicate of the Uzbek question is suggested.
        cyr = self.call(self.q.SubmitQuestion, qs.SubmitQuestionRequest(
            session_id=sid, participant_id=delegates[2]["id"],
            text="Ўзбекистонга қайтган ватандошлар учун уй-жой имтиёзлари борми?",
            language="uz-Cyrl"), delegates[2]["token"])
        self.assertIn(uz.id, [s.question_id for s in cyr.similar_questions])
        suggested = self.call(self.q.SuggestDuplicates, qs.SuggestDuplicatesRequest(
            session_id=sid, question_id=cyr.question.id), mod).similar_questions
        self.assertEqual(suggested[0].question_id, uz.id)
        self.assertNotIn(en.id, [s.question_id for s in suggested])

        # Votes: overlapping voters on the Latin question and the duplicate
        # cannot vote on the pending duplicate, so voters are counted on uz.
        for d in delegates[1:5]:
            r = self.call(self.q.UpvoteQuestion, qs.UpvoteQuestionRequest(
                session_id=sid, question_id=uz.id, participant_id=d["id"]), d["token"])
            self.assertTrue(r.changed)
        r = self.call(self.q.UpvoteQuestion, qs.UpvoteQuestionRequest(
            session_id=sid, question_id=uz.id, participant_id=delegates[1]["id"]),
            delegates[1]["token"])
        self.assertFalse(r.changed)
        self.assertEqual(r.votes, 4)
        for d in (delegates[0], delegates[2], delegates[5]):
            self.call(self.q.UpvoteQuestion, qs.UpvoteQuestionRequest(
                session_id=sid, question_id=anon.id, participant_id=d["id"]), d["token"])
        self.call(self.q.UpvoteQuestion, qs.UpvoteQuestionRequest(
            session_id=sid, question_id=en.id, participant_id=delegates[3]["id"]),
            delegates[3]["token"])
        # Nobody votes in someone else's name.
        self.refused(grpc.StatusCode.PERMISSION_DENIED, self.q.UpvoteQuestion,
                     qs.UpvoteQuestionRequest(session_id=sid, question_id=en.id,
                                              participant_id=delegates[0]["id"]),
                     delegates[1]["token"])
        top = self.call(self.q.ListQuestions, qs.ListQuestionsRequest(
            session_id=sid, order=qs.ListQuestionsRequest.ORDER_TOP),
            delegates[0]["token"]).questions
        self.assertEqual([q.id for q in top], [uz.id, anon.id, en.id, ru.id])

        # 6. merge the duplicate; 7. pin; 8. answered live.
        merged = self.call(self.q.MergeQuestions, qs.MergeQuestionsRequest(
            session_id=sid, target_question_id=uz.id,
            duplicate_question_ids=[cyr.question.id]), mod)
        self.assertEqual(list(merged.question.merged_question_ids), [cyr.question.id])
        self.assertEqual(merged.merged[0].merged_into_question_id, uz.id)
        self.assertEqual(merged.question.votes, 4)
        pinned = self.call(self.q.PinQuestion, qs.PinQuestionRequest(
            session_id=sid, question_id=uz.id), mod)
        self.assertEqual(pinned.question.status, qs.QUESTION_STATUS_PINNED)
        self.call(self.q.MarkAnswered, qs.MarkAnsweredRequest(
            session_id=sid, question_id=uz.id), mod)
        # 9. pin the anonymous question; 10. a written answer with a
        # mistake; 11. undo it; 12. the corrected answer.
        self.call(self.q.PinQuestion, qs.PinQuestionRequest(
            session_id=sid, question_id=anon.id), mod)
        self.call(self.q.MarkAnswered, qs.MarkAnsweredRequest(
            session_id=sid, question_id=anon.id, answer="2020-yildan (xato)"), mod)
        undone = self.call(self.q.UndoModeration,
                           qs.UndoModerationRequest(session_id=sid), mod)
        self.assertEqual(undone.undone.action, "answer")
        restored = self.call(self.q.GetQuestion, qs.GetQuestionRequest(
            session_id=sid, question_id=anon.id), mod).question
        self.assertEqual(restored.status, qs.QUESTION_STATUS_PINNED)
        self.assertEqual(restored.answer, "")
        answer = ("Sugʻurta himoyasi 2026-yildan joriy etiladi; Moliya vazirligi "
                  "tartibni tayyorlamoqda.")
        self.call(self.q.MarkAnswered, qs.MarkAnsweredRequest(
            session_id=sid, question_id=anon.id, answer=answer), mod)
        # The asker sees the answer (and themself as the author).
        mine = self.call(self.q.GetQuestion, qs.GetQuestionRequest(
            session_id=sid, question_id=anon.id), anon_author["token"]).question
        self.assertEqual(mine.answer, answer)
        self.assertEqual(mine.author_participant_id, anon_author["id"])

        # The watchers saw everything live.
        self.assertTrue(watcher.wait_for_change("question.answered", anon.id))
        self.assertTrue(delegate_watcher.wait(lambda events: sum(
            1 for e in events if e.WhichOneof("event") == "change" and
            e.change.kind == "question.answered" and
            any(q.id == anon.id for q in e.change.questions)) >= 2))
        watcher.stop()
        delegate_watcher.stop()
        events = watcher.events
        self.assertEqual(events[0].WhichOneof("event"), "snapshot")
        changes = [e.change for e in events[1:] if e.WhichOneof("event") == "change"]
        versions = [c.version for c in changes]
        self.assertEqual(versions, sorted(set(versions)), "versions must strictly increase")
        self.assertGreater(versions[0], events[0].snapshot.version)
        kinds = [c.kind for c in changes if c.kind != "question.votes"]
        self.assertEqual(kinds, [
            "question.submitted",  # uz
            "question.submitted",  # ru
            "question.submitted",  # ad
            "question.submitted",  # anon
            "question.submitted",  # en
            "question.approved", "question.approved", "question.rejected",
            "question.approved", "question.approved",
            "question.submitted",  # the Cyrillic duplicate
            "question.merged", "question.pinned", "question.answered",
            "question.pinned", "question.answered", "question.restored",
            "question.answered",
        ])
        self.assertIn("question.votes", [c.kind for c in changes])
        # The counts folded from the watch equal the queue's.
        counts = {q.id: q.votes for q in events[0].snapshot.questions}
        for c in changes:
            for q in c.questions:
                counts[q.id] = q.votes
            for v in c.votes:
                counts[v.question_id] = v.votes
        listed = self.call(self.q.ListQuestions, qs.ListQuestionsRequest(
            session_id=sid, view=qs.ListQuestionsRequest.VIEW_ALL, page_size=100),
            mod).questions
        for q in listed:
            self.assertEqual(counts.get(q.id, 0), q.votes, q.text)

        # The anonymous author never reaches another delegate: not in the
        # watch, nor in Get, List or export.
        secrets = [anon_author["id"].encode(), anon_author["org"].encode()]
        blobs = [e.SerializeToString() for e in delegate_watcher.events]
        other = delegates[5]["token"]
        blobs.append(self.call(self.q.GetQuestion, qs.GetQuestionRequest(
            session_id=sid, question_id=anon.id), other).SerializeToString())
        for view in (qs.ListQuestionsRequest.VIEW_OPEN, qs.ListQuestionsRequest.VIEW_ANSWERED,
                     qs.ListQuestionsRequest.VIEW_ALL):
            blobs.append(self.call(self.q.ListQuestions, qs.ListQuestionsRequest(
                session_id=sid, view=view), other).SerializeToString())
        for fmt in (qs.QUESTION_EXPORT_FORMAT_JSON, qs.QUESTION_EXPORT_FORMAT_CSV):
            try:
                blobs.append(self.call(self.q.ExportQuestions, qs.ExportQuestionsRequest(
                    session_id=sid, format=fmt), other).SerializeToString())
            except grpc.RpcError as e:
                self.assertEqual(e.code(), grpc.StatusCode.PERMISSION_DENIED)
            # Moderators (no tenant organizers) never see the author either.
            try:
                blobs.append(self.call(self.q.ExportQuestions, qs.ExportQuestionsRequest(
                    session_id=sid, format=fmt), mod).SerializeToString())
            except grpc.RpcError as e:
                self.assertEqual(e.code(), grpc.StatusCode.PERMISSION_DENIED)
        blobs += [e.SerializeToString() for e in events]
        for blob in blobs:
            for secret in secrets:
                self.assertNotIn(secret, blob)

        # The questions and answers, exported in JSON and CSV.
        exported = self.call(self.q.ExportQuestions, qs.ExportQuestionsRequest(
            session_id=sid, format=qs.QUESTION_EXPORT_FORMAT_JSON))
        self.assertEqual(exported.content_type, "application/json")
        text = json.dumps(json.loads(exported.content), ensure_ascii=False)
        for needle in (ru_edited, answer, "Ўзбекистонга", "Saturdays"):
            self.assertIn(needle, text)
        exported = self.call(self.q.ExportQuestions, qs.ExportQuestionsRequest(
            session_id=sid, format=qs.QUESTION_EXPORT_FORMAT_CSV))
        self.assertEqual(exported.content_type, "text/csv")
        rows = list(csv.reader(io.StringIO(exported.content)))
        self.assertEqual(len(rows), 1 + 6)  # header + every question
        self.assertIn(answer, {cell for row in rows for cell in row})

        # The moderation log: every moderator action of the scenario, in
        # order, by the moderator, with what and why.
        log = self.call(self.q.ListModerationLog,
                        qs.ListModerationLogRequest(session_id=sid)).actions
        self.assertEqual([a.action for a in log], EXPECTED_ACTIONS)
        self.assertEqual([a.sequence for a in log], list(range(1, len(EXPECTED_ACTIONS) + 1)))
        for a in log:
            self.assertEqual(a.actor, moderator["id"])
            self.assertEqual(a.actor_role, "moderator")
            self.assertGreater(a.time.seconds, 0)
        times = [(a.time.seconds, a.time.nanos) for a in log]
        self.assertEqual(times, sorted(times))
        self.assertEqual(list(log[0].question_ids), [uz.id])
        self.assertIn(ru_edited, log[1].detail)
        self.assertIn(reason, log[2].detail)
        self.assertIn(cyr.question.id, list(log[5].question_ids))
        self.assertTrue(log[9].undone)
        self.assertIn(str(log[9].sequence), log[10].detail)
        self.assertIn(answer, log[11].detail)
        self.assertFalse(any(a.undone for a in log if a.sequence != log[9].sequence))
        # Paged the same way.
        paged, token = [], ""
        while True:
            page = self.call(self.q.ListModerationLog, qs.ListModerationLogRequest(
                session_id=sid, page_size=5, page_token=token))
            paged += [a.action for a in page.actions]
            token = page.next_page_token
            if not token:
                break
        self.assertEqual(paged, EXPECTED_ACTIONS)
        # Exported as CSV, the same actions in the same order.
        exported = self.call(self.q.ExportModerationLog, qs.ExportModerationLogRequest(
            session_id=sid, format=qs.QUESTION_EXPORT_FORMAT_CSV))
        rows = list(csv.DictReader(io.StringIO(exported.content)))
        self.assertEqual([row["action"] for row in rows], EXPECTED_ACTIONS)
        # Delegates cannot read it.
        self.refused(grpc.StatusCode.PERMISSION_DENIED, self.q.ListModerationLog,
                     qs.ListModerationLogRequest(session_id=sid), delegates[0]["token"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
