#!/usr/bin/python3
"""End-to-end: registration for an embassy Open Day through a real
townhalld, driven only by Debian's python3-grpcio with stubs generated from
proto/ (a client we did not write).

The scenario: after the video conference, the embassy in Berlin holds an
in-person Open Day (Europe/Berlin) with few seats. The organizer imports
diaspora organizations and their delegates from CSV (Uzbek Latin with oʻ and
gʻ, Cyrillic), invites them, and the seats fill up in arrival order with a
waitlist. A delegate who cancels frees a seat for the next in line; a join
token lets a delegate check in at the door and read the session, nothing
more; a portal's API key self-registers a person (PENDING until approved)
and never sees contact details; a cancelled delegate's token stops working;
the organizer exports the registrations as CSV for a spreadsheet.

Run: TOWNHALLD=<build>/services/townhalld/townhalld \
     TOWNHALL_PYTHON_DIR=<build>/python /usr/bin/python3 test_registration_e2e.py
"""

import csv
import io
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import townhalld_fixture  # noqa: E402

import grpc  # noqa: E402
from google.protobuf import timestamp_pb2, duration_pb2  # noqa: E402

TIMEOUT = 10

# The import takes the files as bytes (proto `bytes` fields).
ORGANIZATIONS_CSV = """name,name_uz_latn,name_ru,name_en,country_code,city,contact_name,contact_email,contact_phone
Berlindagi oʻzbek jamiyati,Berlindagi oʻzbek jamiyati,Узбекское общество в Берлине,Uzbek Society Berlin,DE,Berlin,Dilnoza Karimova,office@uzbek-berlin.example.org,+49 30 5550101
Gʻuncha madaniyat markazi,Gʻuncha madaniyat markazi,Культурный центр «Гунча»,Guncha Cultural Centre,DE,München,Rustam Oripov,info@guncha.example.org,+49 89 5550102
""".encode()

PARTICIPANTS_CSV = """display_name,organization,email,phone,preferred_language,time_zone
Dilnoza Karimova,Uzbek Society Berlin,dilnoza.karimova@example.org,+49 30 5550111,uz-Latn,Europe/Berlin
Шерзод Усманов,Узбекское общество в Берлине,sherzod.usmanov@example.org,+49 30 5550112,ru,Europe/Berlin
Oʻlmas Gʻaniyev,Gʻuncha madaniyat markazi,olmas.ganiyev@example.org,+49 89 5550113,uz-Latn,Europe/Berlin
Rustam Oripov,Guncha Cultural Centre,rustam.oripov@example.org,+49 89 5550114,en,Europe/Berlin
""".encode()

FIXTURE = None
reg = reg_grpc = sched = sched_grpc = tenant = tenant_grpc = export = None


def setUpModule():
    global FIXTURE, reg, reg_grpc, sched, sched_grpc, tenant, tenant_grpc, export
    sched, sched_grpc, tenant, tenant_grpc = townhalld_fixture.import_stubs()
    from townhall.v1 import export_pb2, registration_pb2, registration_pb2_grpc  # noqa: E402
    reg, reg_grpc, export = registration_pb2, registration_pb2_grpc, export_pb2
    FIXTURE = townhalld_fixture.TownhalldFixture()
    FIXTURE.start()


def tearDownModule():
    if FIXTURE is not None:
        FIXTURE.stop()


auth = townhalld_fixture.auth


class Clients:
    """The three stubs with one credential."""

    def __init__(self, channel, token):
        self.metadata = auth(token)
        self.reg = reg_grpc.RegistrationServiceStub(channel)
        self.sched = sched_grpc.SchedulingServiceStub(channel)
        self.tenant = tenant_grpc.TenantServiceStub(channel)

    def __getattr__(self, name):
        # client.Register(request) -> the stub method that has it, with auth.
        for stub in (self.reg, self.sched, self.tenant):
            if hasattr(stub, name):
                method = getattr(stub, name)
                return lambda request: method(
                    request, metadata=self.metadata, timeout=TIMEOUT)
        raise AttributeError(name)


class OpenDayRegistrationTest(unittest.TestCase):

    def setUp(self):
        self.tenant_id, self.token = FIXTURE.create_tenant()
        self.channel = FIXTURE.channel()
        self.organizer = Clients(self.channel, self.token)

    def tearDown(self):
        self.channel.close()

    def code_of(self, call):
        with self.assertRaises(grpc.RpcError) as raised:
            call()
        return raised.exception.code()

    def open_day(self, capacity):
        venue = self.organizer.CreateVenue(sched.CreateVenueRequest(venue=sched.Venue(
            name="Botschaft der Republik Usbekistan", address="Perleberger Str. 62, Berlin",
            time_zone="Europe/Berlin", capacity=capacity))).venue
        # Starts within the hour: doors (check-in) are open.
        start = int(time.time()) + 3600
        session = self.organizer.CreateSession(sched.CreateSessionRequest(
            session=sched.Session(
                title="Ochiq eshiklar kuni / День открытых дверей",
                start_time=timestamp_pb2.Timestamp(seconds=start),
                duration=duration_pb2.Duration(seconds=4 * 3600),
                time_zone="Europe/Berlin",
                format=sched.SESSION_FORMAT_IN_PERSON,
                venue_ids=[venue.id], capacity=capacity),
            publish=True)).session
        return session

    def import_directory(self):
        result = self.organizer.ImportDirectory(reg.ImportDirectoryRequest(
            organizations_csv=ORGANIZATIONS_CSV, participants_csv=PARTICIPANTS_CSV))
        self.assertEqual(list(result.errors), [])
        self.assertEqual(result.organizations_created, 2)
        self.assertEqual(result.participants_created, 4)
        people = self.organizer.ListParticipants(
            reg.ListParticipantsRequest(page_size=100)).participants
        by_name = {p.display_name: p for p in people}
        self.assertIn("Oʻlmas Gʻaniyev", by_name)
        self.assertIn("Шерзод Усманов", by_name)
        # Names in any script resolved to the same organization.
        self.assertEqual(by_name["Dilnoza Karimova"].organization_id,
                         by_name["Шерзод Усманов"].organization_id)
        self.assertEqual(by_name["Oʻlmas Gʻaniyev"].organization_id,
                         by_name["Rustam Oripov"].organization_id)
        # Organizers see contact details.
        self.assertEqual(by_name["Dilnoza Karimova"].email, "dilnoza.karimova@example.org")
        # A second import creates nothing.
        again = self.organizer.ImportDirectory(reg.ImportDirectoryRequest(
            organizations_csv=ORGANIZATIONS_CSV, participants_csv=PARTICIPANTS_CSV))
        self.assertEqual((again.organizations_created, again.participants_created), (0, 0))
        self.assertEqual((again.organizations_existing, again.participants_existing), (2, 4))
        return by_name

    def test_seats_waitlist_tokens_and_check_in(self):
        people = self.import_directory()
        session = self.open_day(capacity=3)
        order = ["Dilnoza Karimova", "Шерзод Усманов", "Oʻlmas Gʻaniyev", "Rustam Oripov"]
        statuses = []
        for i, name in enumerate(order):
            r = self.organizer.Register(reg.RegisterRequest(
                session_id=session.id, participant_id=people[name].id,
                request_id=f"open-day-{i}")).registration
            statuses.append((name, reg.RegistrationStatus.Name(r.status), r.waitlist_position))
        self.assertEqual(statuses, [
            ("Dilnoza Karimova", "REGISTRATION_STATUS_CONFIRMED", 0),
            ("Шерзод Усманов", "REGISTRATION_STATUS_CONFIRMED", 0),
            ("Oʻlmas Gʻaniyev", "REGISTRATION_STATUS_CONFIRMED", 0),
            ("Rustam Oripov", "REGISTRATION_STATUS_WAITLISTED", 1),
        ])
        # A retried Register (same request_id) does not register twice.
        retry = self.organizer.Register(reg.RegisterRequest(
            session_id=session.id, participant_id=people["Rustam Oripov"].id,
            request_id="open-day-3")).registration
        self.assertEqual(retry.status, reg.REGISTRATION_STATUS_WAITLISTED)

        # Dilnoza gets a join token; she may read her session and check in.
        issued = self.organizer.IssueJoinToken(reg.IssueJoinTokenRequest(
            session_id=session.id, participant_id=people["Dilnoza Karimova"].id))
        self.assertEqual(issued.role, reg.SESSION_ROLE_PARTICIPANT)
        dilnoza = Clients(self.channel, issued.token)
        self.assertEqual(dilnoza.GetSession(
            sched.GetSessionRequest(session_id=session.id)).session.title, session.title)
        record = dilnoza.RecordAttendance(reg.RecordAttendanceRequest(
            session_id=session.id, participant_id=people["Dilnoza Karimova"].id,
            action=reg.ATTENDANCE_ACTION_CHECK_IN, request_id="door-1")).record
        self.assertTrue(record.HasField("check_in_time"))
        # ... but not for someone else, not the registrations, not contacts.
        self.assertEqual(self.code_of(lambda: dilnoza.RecordAttendance(reg.RecordAttendanceRequest(
            session_id=session.id, participant_id=people["Шерзод Усманов"].id,
            action=reg.ATTENDANCE_ACTION_CHECK_IN))), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(self.code_of(lambda: dilnoza.ListRegistrations(
            reg.ListRegistrationsRequest(session_id=session.id))),
            grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(self.code_of(lambda: dilnoza.GetParticipant(
            reg.GetParticipantRequest(participant_id=people["Шерзод Усманов"].id))),
            grpc.StatusCode.PERMISSION_DENIED)
        # Joining a video call makes no sense at an in-person Open Day.
        self.assertEqual(self.code_of(lambda: dilnoza.RecordAttendance(reg.RecordAttendanceRequest(
            session_id=session.id, participant_id=people["Dilnoza Karimova"].id,
            action=reg.ATTENDANCE_ACTION_JOIN))), grpc.StatusCode.FAILED_PRECONDITION)

        report = self.organizer.GetAttendanceReport(
            reg.GetAttendanceReportRequest(session_id=session.id))
        self.assertEqual((report.registered_count, report.attended_count), (3, 1))
        self.assertEqual([r.participant_id for r in report.records],
                         [people["Dilnoza Karimova"].id])

        # Dilnoza cancels herself: Rustam, first on the waitlist, gets her
        # seat in the same step, and her token stops working.
        cancelled = dilnoza.CancelRegistration(reg.CancelRegistrationRequest(
            session_id=session.id, participant_id=people["Dilnoza Karimova"].id,
            reason="Kasal boʻlib qoldim"))
        self.assertEqual(cancelled.registration.status, reg.REGISTRATION_STATUS_CANCELLED)
        self.assertEqual(cancelled.promoted.participant_id, people["Rustam Oripov"].id)
        self.assertEqual(cancelled.promoted.status, reg.REGISTRATION_STATUS_CONFIRMED)
        deadline = time.time() + 5
        code = None
        while time.time() < deadline:
            try:
                dilnoza.GetSession(sched.GetSessionRequest(session_id=session.id))
            except grpc.RpcError as error:
                code = error.code()
                break
            time.sleep(0.05)
        self.assertEqual(code, grpc.StatusCode.UNAUTHENTICATED)

        listed = self.organizer.ListRegistrations(
            reg.ListRegistrationsRequest(session_id=session.id))
        self.assertEqual((listed.capacity, listed.confirmed_count, listed.waitlisted_count),
                         (3, 3, 0))

    def test_organizer_exports_registrations_as_csv(self):
        people = self.import_directory()
        session = self.open_day(capacity=2)
        order = ["Oʻlmas Gʻaniyev", "Шерзод Усманов", "Dilnoza Karimova", "Rustam Oripov"]
        for name in order:
            self.organizer.Register(reg.RegisterRequest(
                session_id=session.id, participant_id=people[name].id))
        exported = self.organizer.ExportRegistrations(reg.ExportRegistrationsRequest(
            session_id=session.id, format=export.EXPORT_FORMAT_CSV))
        self.assertEqual(exported.content_type, "text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.content, newline="")))
        self.assertEqual(
            [(r["display_name"], r["organization_name"], r["role"], r["status"],
              r["waitlist_position"]) for r in rows],
            [("Oʻlmas Gʻaniyev", "Gʻuncha madaniyat markazi", "PARTICIPANT", "CONFIRMED", "0"),
             ("Шерзод Усманов", "Berlindagi oʻzbek jamiyati", "PARTICIPANT", "CONFIRMED", "0"),
             ("Dilnoza Karimova", "Berlindagi oʻzbek jamiyati", "PARTICIPANT", "WAITLISTED", "1"),
             ("Rustam Oripov", "Gʻuncha madaniyat markazi", "PARTICIPANT", "WAITLISTED", "2")])
        self.assertEqual([r["participant_id"] for r in rows],
                         [people[name].id for name in order])
        self.assertTrue(all(r["create_time"].endswith("Z") for r in rows))
        # A participant's join token exports nothing.
        token = self.organizer.IssueJoinToken(reg.IssueJoinTokenRequest(
            session_id=session.id, participant_id=people[order[0]].id)).token
        self.assertEqual(self.code_of(lambda: Clients(self.channel, token).ExportRegistrations(
            reg.ExportRegistrationsRequest(session_id=session.id,
                                           format=export.EXPORT_FORMAT_CSV))),
            grpc.StatusCode.PERMISSION_DENIED)

    def test_portal_self_registration_needs_approval(self):
        people = self.import_directory()
        session = self.open_day(capacity=10)
        key = self.organizer.CreateApiKey(tenant.CreateApiKeyRequest(api_key=tenant.ApiKey(
            display_name="Vatandoshlar portali",
            scopes=[tenant.API_SCOPE_MANAGE_REGISTRATIONS]))).key
        portal = Clients(self.channel, key)
        someone = people["Oʻlmas Gʻaniyev"]
        # The portal sees the person, without contact details.
        seen = portal.GetParticipant(reg.GetParticipantRequest(participant_id=someone.id))
        self.assertEqual(seen.participant.display_name, "Oʻlmas Gʻaniyev")
        self.assertEqual((seen.participant.email, seen.participant.phone), ("", ""))
        pending = portal.Register(reg.RegisterRequest(
            session_id=session.id, participant_id=someone.id)).registration
        self.assertEqual(pending.status, reg.REGISTRATION_STATUS_PENDING)
        self.assertTrue(pending.self_registered)
        # Only organizers assign roles; a portal cannot approve.
        self.assertEqual(self.code_of(lambda: portal.Register(reg.RegisterRequest(
            session_id=session.id, participant_id=people["Rustam Oripov"].id,
            role=reg.SESSION_ROLE_MODERATOR))), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(self.code_of(lambda: portal.ApproveRegistration(
            reg.ApproveRegistrationRequest(session_id=session.id, participant_id=someone.id))),
            grpc.StatusCode.PERMISSION_DENIED)
        # No join token while pending.
        self.assertEqual(self.code_of(lambda: portal.IssueJoinToken(reg.IssueJoinTokenRequest(
            session_id=session.id, participant_id=someone.id))),
            grpc.StatusCode.FAILED_PRECONDITION)
        approved = self.organizer.ApproveRegistration(reg.ApproveRegistrationRequest(
            session_id=session.id, participant_id=someone.id)).registration
        self.assertEqual(approved.status, reg.REGISTRATION_STATUS_CONFIRMED)
        token = portal.IssueJoinToken(reg.IssueJoinTokenRequest(
            session_id=session.id, participant_id=someone.id)).token
        self.assertTrue(token)
        # Revoking the key locks the portal out.
        keys = self.organizer.ListApiKeys(tenant.ListApiKeysRequest()).api_keys
        self.organizer.RevokeApiKey(tenant.RevokeApiKeyRequest(api_key_id=keys[0].id))
        deadline = time.time() + 5
        code = None
        while time.time() < deadline:
            try:
                portal.GetParticipant(reg.GetParticipantRequest(participant_id=someone.id))
            except grpc.RpcError as error:
                code = error.code()
                break
            time.sleep(0.05)
        self.assertEqual(code, grpc.StatusCode.UNAUTHENTICATED)


if __name__ == "__main__":
    unittest.main(verbosity=2)
