#!/usr/bin/python3
"""End-to-end: recurring series through a real townhalld, checked from the
outside with Debian's python3-grpcio, python3-icalendar and python3-dateutil.

The scenario: a government and its embassy hold a monthly video conference
with diaspora organizations, planned in Asia/Tashkent; one occurrence is
cancelled and one moved. The exported iCalendar must describe exactly the
occurrences the server lists, as UTC instants, both by its IANA TZID and by
the VTIMEZONE it embeds (what Outlook reads). A second series runs weekly in
Europe/Berlin across the 2027 change to summer time and must stay at 10:00
local time.

Run: TOWNHALLD=<build>/services/townhalld/townhalld \
     TOWNHALL_PYTHON_DIR=<build>/python /usr/bin/python3 test_calendar_e2e.py
"""

import datetime as dt
import os
import sys
import unittest
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import townhalld_fixture  # noqa: E402

import grpc  # noqa: E402
from dateutil.rrule import rrulestr, rruleset  # noqa: E402
from google.protobuf import duration_pb2, field_mask_pb2, timestamp_pb2  # noqa: E402
from icalendar import Calendar  # noqa: E402

UTC = dt.timezone.utc
TASHKENT = zoneinfo.ZoneInfo("Asia/Tashkent")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
TIMEOUT = 10  # seconds per RPC

FIXTURE = None
pb = pb_grpc = None


def setUpModule():
    global FIXTURE, pb, pb_grpc
    pb, pb_grpc, _, _ = townhalld_fixture.import_stubs()
    FIXTURE = townhalld_fixture.TownhalldFixture()
    FIXTURE.start()


def tearDownModule():
    if FIXTURE is not None:
        FIXTURE.stop()


# ---------------------------------------------------------------------------
# Helpers


def ts(when):
    """Aware datetime -> Timestamp."""
    assert when.tzinfo is not None
    return timestamp_pb2.Timestamp(seconds=int(when.timestamp()))


def instant(timestamp):
    """Timestamp -> aware UTC datetime."""
    return dt.datetime.fromtimestamp(timestamp.seconds, UTC) + dt.timedelta(
        microseconds=timestamp.nanos // 1000)


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def local_value(prop):
    """(naive wall-clock datetime, TZID or None) of a DTSTART-like property.

    icalendar attaches a pytz zone of its own choosing; the wall-clock fields
    are what the file says, so those are kept and the zone is resolved here.
    A UTC value ("...Z") comes back as (naive UTC, "UTC")."""
    value = prop.dt
    tzid = prop.params.get("TZID")
    if tzid is None and value.tzinfo is not None and value.utcoffset() == dt.timedelta(0):
        tzid = "UTC"
    return value.replace(tzinfo=None), tzid


def date_list_values(props):
    """[(naive local, TZID)] of all EXDATE or RDATE lines."""
    out = []
    for prop in as_list(props):
        tzid = prop.params.get("TZID")
        for item in prop.dts:
            value = item.dt
            item_tzid = tzid
            if item_tzid is None and getattr(value, "tzinfo", None) is not None \
                    and value.utcoffset() == dt.timedelta(0):
                item_tzid = "UTC"
            out.append((value.replace(tzinfo=None), item_tzid))
    return out


def vtimezone_utc_offset(vtimezone, local):
    """UTC offset at naive wall-clock time `local` according to the
    VTIMEZONE's own STANDARD/DAYLIGHT rules (RFC 5545 3.6.5): the
    observance with the latest onset at or before `local` wins."""
    best = None  # (onset, offset_to)
    for obs in vtimezone.subcomponents:
        if obs.name not in ("STANDARD", "DAYLIGHT"):
            continue
        start = obs["DTSTART"].dt.replace(tzinfo=None)
        offset_from = obs["TZOFFSETFROM"].td
        offset_to = obs["TZOFFSETTO"].td
        onsets = []
        if start <= local:
            onsets.append(start)
        if "RRULE" in obs:
            recur = dict(obs["RRULE"])
            until = recur.pop("UNTIL", [None])[0]
            text = ";".join(
                f"{k}={','.join(str(v) for v in vals)}" for k, vals in recur.items())
            rule = rrulestr(text, dtstart=start)
            if until is not None:
                # UNTIL is UTC; onsets are wall-clock times before the change.
                if getattr(until, "tzinfo", None) is not None:
                    until = until.astimezone(UTC).replace(tzinfo=None) + offset_from
                rule = rule.replace(until=until)
            onset = rule.before(local, inc=True)
            if onset is not None:
                onsets.append(onset)
        for rdate, _ in date_list_values(obs.get("RDATE")):
            if rdate <= local:
                onsets.append(rdate)
        if onsets:
            onset = max(onsets)
            if best is None or onset > best[0]:
                best = (onset, offset_to)
    if best is None:
        raise AssertionError(f"VTIMEZONE {vtimezone.get('TZID')} does not cover {local}")
    return best[1]


class ParsedSeries:
    """The one VEVENT of a series export, with its times resolved."""

    def __init__(self, test, ics):
        self.calendar = Calendar.from_ical(ics)
        events = self.calendar.walk("VEVENT")
        test.assertEqual(len(events), 1, f"one VEVENT per series expected:\n{ics}")
        self.event = events[0]
        self.vtimezones = {str(z["TZID"]): z for z in self.calendar.walk("VTIMEZONE")}
        self.dtstart, self.tzid = local_value(self.event["DTSTART"])
        self.dtend, self.dtend_tzid = local_value(self.event["DTEND"])
        self.rrule_text = self.event["RRULE"].to_ical().decode()
        self.exdates = date_list_values(self.event.get("EXDATE"))
        self.rdates = date_list_values(self.event.get("RDATE"))

    def expand_local(self):
        """Expands RRULE + RDATE - EXDATE in wall-clock time of the TZID
        (the RFC 5545 semantics) and returns sorted aware datetimes."""
        zone = zoneinfo.ZoneInfo(self.tzid)
        rules = rruleset()
        rules.rrule(rrulestr(self.rrule_text, dtstart=self.dtstart.replace(tzinfo=zone)))
        for value, tzid in self.rdates:
            rules.rdate(value.replace(tzinfo=zoneinfo.ZoneInfo(tzid)))
        for value, tzid in self.exdates:
            rules.exdate(value.replace(tzinfo=zoneinfo.ZoneInfo(tzid)))
        return list(rules)

    def utc_by_vtimezone(self, local):
        """UTC instant of a wall-clock time by the embedded VTIMEZONE."""
        vtz = self.vtimezones[self.tzid]
        return (local.replace(tzinfo=None) - vtimezone_utc_offset(vtz, local.replace(
            tzinfo=None))).replace(tzinfo=UTC)


# ---------------------------------------------------------------------------


class SchedulingCase(unittest.TestCase):
    """A tenant of the fixture's townhalld and its SchedulingService (also the
    base of test_calendar_zones_e2e)."""

    # Occurrences listed per page: small, so that paging is exercised.
    PAGE_SIZE = 2

    @classmethod
    def setUpClass(cls):
        cls.tenant_id, cls.token = FIXTURE.create_tenant()
        cls.channel = FIXTURE.channel()
        cls.stub = pb_grpc.SchedulingServiceStub(cls.channel)
        cls.auth = (("authorization", f"Bearer {cls.token}"),)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()

    def call(self, method, request, metadata=None):
        return getattr(self.stub, method)(
            request, metadata=self.auth if metadata is None else metadata, timeout=TIMEOUT)

    def occurrences(self, series_id):
        sessions, token = [], ""
        while True:
            reply = self.call("ListSeriesOccurrences", pb.ListSeriesOccurrencesRequest(
                series_id=series_id, page_size=self.PAGE_SIZE, page_token=token))
            sessions.extend(reply.sessions)
            token = reply.next_page_token
            if not token:
                return sessions


class CalendarE2ETest(SchedulingCase):
    def create_venue(self, name, address, zone):
        return self.call("CreateVenue", pb.CreateVenueRequest(venue=pb.Venue(
            name=name, address=address, time_zone=zone, capacity=120))).venue

    def export(self, series_id):
        reply = self.call("ExportCalendar", pb.ExportCalendarRequest(series_id=series_id))
        self.assertTrue(reply.ics.startswith("BEGIN:VCALENDAR"), reply.ics[:200])
        self.assertEqual(reply.filename, f"{series_id}.ics")
        return reply.ics

    # -- the scenario ---------------------------------------------------------

    def test_monthly_tashkent_series_export_matches_occurrences(self):
        venue = self.create_venue(
            "Embassy of the Republic of Uzbekistan in Germany",
            "Perleberger Straße 62, 10559 Berlin", "Europe/Berlin")
        # Long enough that libical folds the line (75 octets), with multibyte
        # characters (oʻ, gʻ, Cyrillic) around the folds.
        title = ("Oʻzbekiston diasporasi bilan muntazam videokonferensiya — "
                 "vatandoshlarning taklif va gʻoyalari / Видеоконференция с "
                 "соотечественниками")
        description = ("Kun tartibi: pandemiya holati; diaspora takliflari.\n"
                       "Повестка: положение с пандемией, предложения диаспоры.")
        first = dt.datetime(2027, 1, 9, 10, 0, tzinfo=TASHKENT)  # 2nd Saturday
        rrule = "FREQ=MONTHLY;BYDAY=2SA;COUNT=6"
        template = pb.Session(
            title=title, description=description, start_time=ts(first),
            duration=duration_pb2.Duration(seconds=2 * 3600), time_zone="Asia/Tashkent",
            format=pb.SESSION_FORMAT_HYBRID, venue_ids=[venue.id],
            join_url="https://video.example.org/j/diaspora", languages=["uz", "ru", "en"])
        series = self.call("CreateSeries", pb.CreateSeriesRequest(
            series=pb.Series(template=template, rrule=rrule), publish=True)).series
        self.assertTrue(series.id)
        self.assertEqual(series.rrule, rrule)

        # Independent expectation: dateutil in the zone, 10:00 local each time.
        expected = list(rrulestr(rrule, dtstart=first))
        self.assertEqual(len(expected), 6)
        self.assertEqual([d.date() for d in expected][:3],
                         [dt.date(2027, 1, 9), dt.date(2027, 2, 13), dt.date(2027, 3, 13)])
        before = self.occurrences(series.id)
        self.assertEqual([instant(s.start_time) for s in before],
                         [d.astimezone(UTC) for d in expected])
        self.assertEqual(list(series.session_ids), [s.id for s in before])
        for s in before:
            self.assertEqual(s.series_id, series.id)
            self.assertEqual(s.original_start_time, s.start_time)
            self.assertEqual(s.state, pb.SESSION_STATE_SCHEDULED)
            self.assertEqual(s.time_zone, "Asia/Tashkent")

        # Cancel the 3rd occurrence, move the 4th (twice: the second move
        # must replace the first RDATE, not add to it).
        cancelled_orig = expected[2]
        moved_orig = expected[3]
        moved_first = dt.datetime(2027, 4, 11, 9, 0, tzinfo=TASHKENT)
        moved_new = dt.datetime(2027, 4, 11, 11, 30, tzinfo=TASHKENT)
        cancelled = self.call("CancelOccurrence", pb.CancelOccurrenceRequest(
            series_id=series.id, original_start_time=ts(cancelled_orig),
            reason="Navroʻz bayrami / праздник")).session
        self.assertEqual(cancelled.id, before[2].id)
        self.assertEqual(cancelled.state, pb.SESSION_STATE_CANCELLED)
        self.call("MoveOccurrence", pb.MoveOccurrenceRequest(
            series_id=series.id, original_start_time=ts(moved_orig),
            new_start_time=ts(moved_first)))
        moved = self.call("MoveOccurrence", pb.MoveOccurrenceRequest(
            series_id=series.id, original_start_time=ts(moved_orig),
            new_start_time=ts(moved_new))).session
        self.assertEqual(moved.id, before[3].id, "a moved occurrence keeps its id")
        self.assertEqual(instant(moved.start_time), moved_new.astimezone(UTC))
        self.assertEqual(instant(moved.original_start_time), moved_orig.astimezone(UTC))
        self.assertEqual(moved.state, pb.SESSION_STATE_SCHEDULED)

        # Cancelling a cancelled occurrence is a state error, not a no-op.
        with self.assertRaises(grpc.RpcError) as err:
            self.call("CancelOccurrence", pb.CancelOccurrenceRequest(
                series_id=series.id, original_start_time=ts(cancelled_orig)))
        self.assertEqual(err.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        # There is no occurrence at a time the rule does not produce.
        with self.assertRaises(grpc.RpcError) as err:
            self.call("MoveOccurrence", pb.MoveOccurrenceRequest(
                series_id=series.id, original_start_time=ts(moved_first),
                new_start_time=ts(moved_new)))
        self.assertEqual(err.exception.code(), grpc.StatusCode.NOT_FOUND)

        after = self.occurrences(series.id)
        self.assertEqual(len(after), 6, "cancelled occurrences stay listed")
        by_id = {s.id: s for s in after}
        self.assertEqual(by_id[cancelled.id].state, pb.SESSION_STATE_CANCELLED)
        self.assertEqual(instant(by_id[moved.id].start_time), moved_new.astimezone(UTC))
        active = sorted(instant(s.start_time) for s in after
                        if s.state != pb.SESSION_STATE_CANCELLED)
        self.assertEqual(len(active), 5)
        starts = [instant(s.start_time) for s in after]
        self.assertEqual(starts, sorted(starts), "occurrences are listed in start order")

        got = self.call("GetSeries", pb.GetSeriesRequest(series_id=series.id)).series
        self.assertEqual(sorted(instant(t) for t in got.exception_dates),
                         [cancelled_orig.astimezone(UTC), moved_orig.astimezone(UTC)])
        self.assertEqual([instant(t) for t in got.extra_dates], [moved_new.astimezone(UTC)])
        self.assertGreater(got.sequence, series.sequence)

        # The calendar.
        ics = self.export(series.id)
        cal = ParsedSeries(self, ics)
        self.assertEqual(str(cal.event["UID"]), f"{series.id}@townhall")
        self.assertEqual(str(cal.event["SUMMARY"]), title)
        # An EXDATE has no text: the cancellation's reason is listed at the
        # end of the series' description, at its local start.
        self.assertEqual(by_id[cancelled.id].cancel_reason, "Navroʻz bayrami / праздник")
        local = cancelled_orig.astimezone(TASHKENT)
        self.assertEqual(str(cal.event["DESCRIPTION"]),
                         description + "\n\nCancelled:\n- "
                         + local.strftime("%Y-%m-%d %H:%M") + " Asia/Tashkent: "
                         + "Navroʻz bayrami / праздник")
        self.assertEqual(str(cal.event["LOCATION"]),
                         f"{venue.name}, {venue.address}")
        self.assertEqual(str(cal.event["URL"]), template.join_url)
        self.assertEqual(str(cal.event["STATUS"]), "CONFIRMED")
        # The series' SEQUENCE moves with its occurrences' too.
        self.assertEqual(int(cal.event["SEQUENCE"]),
                         got.sequence + sum(s.sequence for s in after))
        self.assertEqual(cal.tzid, "Asia/Tashkent")
        self.assertEqual(cal.dtend_tzid, "Asia/Tashkent")
        self.assertEqual(cal.dtstart, dt.datetime(2027, 1, 9, 10, 0))
        self.assertEqual(cal.dtend, dt.datetime(2027, 1, 9, 12, 0))
        self.assertIn("Asia/Tashkent", cal.vtimezones,
                      "a VTIMEZONE for every TZID used (RFC 5545 3.2.19)")
        recur = cal.event["RRULE"]
        self.assertEqual(recur.get("FREQ"), ["MONTHLY"])
        self.assertEqual(recur.get("COUNT"), [6])
        self.assertEqual([str(d).upper() for d in recur.get("BYDAY")], ["2SA"])
        self.assertEqual(
            sorted(cal.exdates),
            [(dt.datetime(2027, 3, 13, 10, 0), "Asia/Tashkent"),
             (dt.datetime(2027, 4, 10, 10, 0), "Asia/Tashkent")])
        self.assertEqual(cal.rdates, [(dt.datetime(2027, 4, 11, 11, 30), "Asia/Tashkent")])

        expanded = cal.expand_local()
        self.assertEqual(sorted(d.astimezone(UTC) for d in expanded), active,
                         f"the calendar and ListSeriesOccurrences disagree:\n{ics}")
        # A client that uses only the embedded VTIMEZONE gets the same instants.
        self.assertEqual(sorted(cal.utc_by_vtimezone(d) for d in expanded), active,
                         f"the VTIMEZONE gives other instants:\n{ics}")

    def test_cancel_after_move_and_move_back(self):
        first = dt.datetime(2027, 1, 9, 15, 0, tzinfo=TASHKENT)
        rrule = "FREQ=MONTHLY;BYDAY=2SA;COUNT=4"
        series = self.call("CreateSeries", pb.CreateSeriesRequest(series=pb.Series(
            template=pb.Session(title="Diaspora tashkilotlari kengashi",
                                start_time=ts(first),
                                duration=duration_pb2.Duration(seconds=3600),
                                time_zone="Asia/Tashkent"),
            rrule=rrule), publish=True)).series
        starts = list(rrulestr(rrule, dtstart=first))
        # 2nd: moved, then cancelled -> EXDATE only, the RDATE goes away.
        self.call("MoveOccurrence", pb.MoveOccurrenceRequest(
            series_id=series.id, original_start_time=ts(starts[1]),
            new_start_time=ts(starts[1] + dt.timedelta(days=1))))
        self.call("CancelOccurrence", pb.CancelOccurrenceRequest(
            series_id=series.id, original_start_time=ts(starts[1])))
        # 3rd: moved, then moved back -> neither EXDATE nor RDATE.
        self.call("MoveOccurrence", pb.MoveOccurrenceRequest(
            series_id=series.id, original_start_time=ts(starts[2]),
            new_start_time=ts(starts[2] - dt.timedelta(hours=3))))
        self.call("MoveOccurrence", pb.MoveOccurrenceRequest(
            series_id=series.id, original_start_time=ts(starts[2]),
            new_start_time=ts(starts[2])))

        got = self.call("GetSeries", pb.GetSeriesRequest(series_id=series.id)).series
        self.assertEqual([instant(t) for t in got.exception_dates],
                         [starts[1].astimezone(UTC)])
        self.assertEqual(list(got.extra_dates), [])
        sessions = self.occurrences(series.id)
        active = [instant(s.start_time) for s in sessions
                  if s.state != pb.SESSION_STATE_CANCELLED]
        self.assertEqual(active, [starts[i].astimezone(UTC) for i in (0, 2, 3)])
        cal = ParsedSeries(self, self.export(series.id))
        self.assertEqual(cal.exdates, [(dt.datetime(2027, 2, 13, 15, 0), "Asia/Tashkent")])
        self.assertEqual(cal.rdates, [])
        self.assertEqual(sorted(d.astimezone(UTC) for d in cal.expand_local()), active)

    def test_weekly_berlin_series_keeps_local_time_across_dst(self):
        venue = self.create_venue("Generalkonsulat Frankfurt (Open Day)",
                                  "Mainzer Landstraße 1, Frankfurt am Main",
                                  "Europe/Berlin")
        first = dt.datetime(2027, 3, 13, 10, 0, tzinfo=BERLIN)
        series = self.call("CreateSeries", pb.CreateSeriesRequest(series=pb.Series(
            template=pb.Session(
                title="Ochiq eshiklar kuni / Open Day", start_time=ts(first),
                duration=duration_pb2.Duration(seconds=3 * 3600),
                time_zone="Europe/Berlin", format=pb.SESSION_FORMAT_IN_PERSON,
                venue_ids=[venue.id]),
            rrule="FREQ=WEEKLY;COUNT=4"))).series
        sessions = self.occurrences(series.id)
        # EU summer time starts on 2027-03-28: the last one is UTC+2.
        expected_utc = [dt.datetime(2027, 3, 13, 9, 0, tzinfo=UTC),
                        dt.datetime(2027, 3, 20, 9, 0, tzinfo=UTC),
                        dt.datetime(2027, 3, 27, 9, 0, tzinfo=UTC),
                        dt.datetime(2027, 4, 3, 8, 0, tzinfo=UTC)]
        self.assertEqual([instant(s.start_time) for s in sessions], expected_utc)
        for s in sessions:
            self.assertEqual(s.state, pb.SESSION_STATE_DRAFT)

        ics = self.export(series.id)
        cal = ParsedSeries(self, ics)
        self.assertEqual(cal.tzid, "Europe/Berlin")
        self.assertEqual(cal.exdates, [])
        self.assertEqual(cal.rdates, [])
        expanded = cal.expand_local()
        self.assertEqual(len(expanded), 4)
        for d in expanded:
            self.assertEqual((d.hour, d.minute), (10, 0), d)
        self.assertEqual([d.astimezone(UTC) for d in expanded], expected_utc)
        self.assertEqual([cal.utc_by_vtimezone(d) for d in expanded], expected_utc,
                         f"the VTIMEZONE misses the DST change:\n{ics}")
        vtz = cal.vtimezones["Europe/Berlin"]
        kinds = {obs.name for obs in vtz.subcomponents}
        self.assertEqual(kinds, {"STANDARD", "DAYLIGHT"}, ics)
        self.assertLess(len(ics), 4000, "VTIMEZONE should be short, not 130 years of rules")

    def test_until_forms_export_as_utc_and_match_occurrences(self):
        # The last occurrence, 2027-04-03 10:00 Berlin, is 08:00Z (summer
        # time). Local, DATE and UTC forms of UNTIL must all keep it, and the
        # export must write UNTIL in UTC (RFC 5545 3.3.10 with a TZID DTSTART).
        first = dt.datetime(2027, 3, 13, 10, 0, tzinfo=BERLIN)
        last_utc = dt.datetime(2027, 4, 3, 8, 0, tzinfo=UTC)
        for until in ("20270403T100000", "20270403", "20270403T080000Z"):
            with self.subTest(until=until):
                series = self.call("CreateSeries", pb.CreateSeriesRequest(series=pb.Series(
                    template=pb.Session(title="Maslahat", start_time=ts(first),
                                        duration=duration_pb2.Duration(seconds=3600),
                                        time_zone="Europe/Berlin"),
                    rrule=f"FREQ=WEEKLY;UNTIL={until}"))).series
                starts = [instant(s.start_time) for s in self.occurrences(series.id)]
                self.assertEqual(len(starts), 4, starts)
                self.assertEqual(starts[-1], last_utc)
                cal = ParsedSeries(self, self.export(series.id))
                exported_until = cal.event["RRULE"]["UNTIL"][0]
                self.assertIsNotNone(getattr(exported_until, "tzinfo", None),
                                     f"UNTIL must be UTC: {cal.rrule_text}")
                self.assertGreaterEqual(exported_until, last_utc)
                self.assertLess(exported_until, last_utc + dt.timedelta(days=7))
                self.assertEqual([d.astimezone(UTC) for d in cal.expand_local()], starts)

    def test_update_of_series_occurrence_start_is_refused(self):
        first = dt.datetime(2027, 5, 1, 9, 0, tzinfo=TASHKENT)
        series = self.call("CreateSeries", pb.CreateSeriesRequest(series=pb.Series(
            template=pb.Session(title="Haftalik kengash", start_time=ts(first),
                                duration=duration_pb2.Duration(seconds=3600),
                                time_zone="Asia/Tashkent"),
            rrule="FREQ=WEEKLY;COUNT=2"))).series
        session = self.occurrences(series.id)[0]
        with self.assertRaises(grpc.RpcError) as err:
            self.call("UpdateSession", pb.UpdateSessionRequest(
                session=pb.Session(id=session.id, start_time=ts(first + dt.timedelta(hours=1))),
                update_mask=field_mask_pb2.FieldMask(paths=["start_time"]),
                etag=session.etag))
        self.assertEqual(err.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertIn("MoveOccurrence", err.exception.details())

    # -- errors ---------------------------------------------------------------

    def test_missing_token_is_unauthenticated(self):
        with self.assertRaises(grpc.RpcError) as err:
            self.call("ListSessions", pb.ListSessionsRequest(), metadata=())
        self.assertEqual(err.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        self.assertIn("authorization", err.exception.details())

    def test_bad_tokens_are_unauthenticated(self):
        # Garbage, a tampered signature and a non-Bearer scheme.
        head, payload, signature = self.token.split(".")
        tampered = ".".join([head, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")])
        for header in ("Bearer not-a-jwt", f"Bearer {tampered}", f"Basic {self.token}"):
            with self.subTest(header=header[:20]):
                with self.assertRaises(grpc.RpcError) as err:
                    self.call("ListSessions", pb.ListSessionsRequest(),
                              metadata=(("authorization", header),))
                self.assertEqual(err.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_bootstrap_credential_cannot_schedule(self):
        with self.assertRaises(grpc.RpcError) as err:
            self.call("ListSessions", pb.ListSessionsRequest(), metadata=(
                ("authorization", f"Bearer {FIXTURE.bootstrap_credential}"),))
        self.assertEqual(err.exception.code(), grpc.StatusCode.PERMISSION_DENIED)

    def test_empty_title_is_invalid_argument(self):
        start = dt.datetime(2027, 2, 1, 10, 0, tzinfo=TASHKENT)
        with self.assertRaises(grpc.RpcError) as err:
            self.call("CreateSession", pb.CreateSessionRequest(session=pb.Session(
                title="", start_time=ts(start), duration=duration_pb2.Duration(seconds=3600),
                time_zone="Asia/Tashkent")))
        self.assertEqual(err.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("session.title", err.exception.details())

    def test_bad_rrule_and_zone_are_invalid_argument(self):
        start = dt.datetime(2027, 2, 1, 10, 0, tzinfo=TASHKENT)
        template = pb.Session(title="Seriya", start_time=ts(start),
                              duration=duration_pb2.Duration(seconds=3600),
                              time_zone="Asia/Tashkent")
        with self.assertRaises(grpc.RpcError) as err:
            self.call("CreateSeries", pb.CreateSeriesRequest(
                series=pb.Series(template=template, rrule="FREQ=SOMETIMES")))
        self.assertEqual(err.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("series.rrule", err.exception.details())
        template.time_zone = "Mars/Olympus_Mons"
        with self.assertRaises(grpc.RpcError) as err:
            self.call("CreateSeries", pb.CreateSeriesRequest(
                series=pb.Series(template=template, rrule="FREQ=WEEKLY;COUNT=2")))
        self.assertEqual(err.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("series.template.time_zone", err.exception.details())

    def test_other_tenant_sees_not_found(self):
        start = dt.datetime(2027, 6, 5, 10, 0, tzinfo=TASHKENT)
        series = self.call("CreateSeries", pb.CreateSeriesRequest(series=pb.Series(
            template=pb.Session(title="Ichki yigʻilish", start_time=ts(start),
                                duration=duration_pb2.Duration(seconds=3600),
                                time_zone="Asia/Tashkent"),
            rrule="FREQ=WEEKLY;COUNT=2"))).series
        _, other_token = FIXTURE.create_tenant()
        other = (("authorization", f"Bearer {other_token}"),)
        for method, request in (
                ("GetSeries", pb.GetSeriesRequest(series_id=series.id)),
                ("ExportCalendar", pb.ExportCalendarRequest(series_id=series.id)),
                ("GetSession", pb.GetSessionRequest(session_id=series.session_ids[0])),
                ("CancelOccurrence", pb.CancelOccurrenceRequest(
                    series_id=series.id, original_start_time=ts(start)))):
            with self.subTest(method=method):
                with self.assertRaises(grpc.RpcError) as err:
                    self.call(method, request, metadata=other)
                self.assertEqual(err.exception.code(), grpc.StatusCode.NOT_FOUND)
        listed = self.call("ListSessions", pb.ListSessionsRequest(), metadata=other)
        self.assertEqual(len(listed.sessions), 0)
        # And the owner's series is untouched.
        self.assertTrue(all(s.state == pb.SESSION_STATE_DRAFT
                            for s in self.occurrences(series.id)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
