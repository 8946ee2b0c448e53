#!/usr/bin/python3
"""Property test of the calendar export around every time zone transition.

For each IANA zone (zone.tab) with a UTC offset change in 2027-2028, and for
each such transition, a real townhalld gets sessions and series at the local
times next to it: in the gap (or in the repeated hour), just before and just
after. Some occurrences are cancelled, some moved (into the repeated hour,
just after the change), some edited (their own title: an override). Each is
exported, and the .ics must expand to exactly the server's live occurrences
(ListSeriesOccurrences, GetSession), by two independent readers:

- python3-icalendar + python3-dateutil, with RFC 5545 semantics: the RRULE
  expanded in wall-clock time of the TZID, EXDATE and RECURRENCE-ID matched
  by value, a skipped local time read with the offset from before the gap,
  a repeated one as its first instance; each instance lasting
  DTEND - DTSTART;
- libical (the ics_instants helper, with the VTIMEZONEs the file embeds).

By default a deterministic sample of about 40 zones runs (the zones named in
MUST_HAVE, then zones picked by a hash of their name; TOWNHALL_ZONE_SAMPLE=N
changes the size, and below the size of MUST_HAVE takes its first N: tests/
run.sh --sanitize runs 16); TOWNHALL_ALL_ZONES=1 runs every zone. The counts (zones, transitions, occurrences checked) are
printed at the end.

Run: TOWNHALLD=<build>/services/townhalld/townhalld \
     TOWNHALL_PYTHON_DIR=<build>/python ICS_INSTANTS=<build>/tests/e2e/ics_instants \
     /usr/bin/python3 test_calendar_zones_e2e.py
"""

import datetime as dt
import hashlib
import os
import subprocess
import sys
import tempfile
import unittest
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_calendar_e2e as calendar_e2e  # noqa: E402
from test_calendar_e2e import date_list_values, instant, local_value, ts  # noqa: E402

from dateutil.rrule import rrulestr, rruleset  # noqa: E402
from google.protobuf import duration_pb2, field_mask_pb2  # noqa: E402
from icalendar import Calendar  # noqa: E402

UTC = dt.timezone.utc
YEARS = (2027, 2028)
SAMPLE_SIZE = int(os.environ.get("TOWNHALL_ZONE_SAMPLE", "40"))
# Always in the sample: the zones, 30-minute DST (Lord Howe), the
# southern hemisphere, negative DST (Dublin, Casablanca), a two-hour jump
# (Troll), changes at midnight (Havana, Azores), 45-minute offsets (Chatham).
MUST_HAVE = [
    "America/New_York", "Europe/Berlin", "Asia/Kamchatka", "Australia/Lord_Howe",
    "Australia/Sydney", "Pacific/Auckland", "America/Santiago", "Pacific/Chatham",
    "Europe/Dublin", "Africa/Casablanca", "Antarctica/Troll", "America/Havana",
    "Atlantic/Azores", "America/St_Johns", "Asia/Jerusalem", "Africa/Cairo",
]
DURATION = dt.timedelta(hours=1)


def setUpModule():
    # The townhalld of test_calendar_e2e's fixture, and its stubs.
    global FIXTURE, pb, pb_grpc
    calendar_e2e.setUpModule()
    FIXTURE, pb, pb_grpc = calendar_e2e.FIXTURE, calendar_e2e.pb, calendar_e2e.pb_grpc


tearDownModule = calendar_e2e.tearDownModule
FIXTURE = pb = pb_grpc = None


# ---------------------------------------------------------------------------
# Zones and transitions


def zone_tab_zones():
    with open("/usr/share/zoneinfo/zone.tab", encoding="utf-8") as f:
        return sorted({line.split("\t")[2].strip() for line in f
                       if line.strip() and not line.startswith("#")})


def transitions(name):
    """[(instant, offset before, offset after)] of the zone in YEARS."""
    zone = zoneinfo.ZoneInfo(name)

    def offset(t):
        return t.astimezone(zone).utcoffset()

    out = []
    t = dt.datetime(YEARS[0], 1, 1, tzinfo=UTC)
    end = dt.datetime(YEARS[-1] + 1, 1, 1, tzinfo=UTC)
    step = dt.timedelta(hours=6)
    while t < end:
        a, b = offset(t), offset(t + step)
        if a != b:
            lo, hi = t, t + step  # offset(lo) == a, offset(hi) == b
            while hi - lo > dt.timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid <= lo:
                    mid = lo + dt.timedelta(minutes=1)
                if offset(mid) == a:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, a, b))
        t += step
    return out


def pick_zones():
    """(zones to test, total zones with a transition in YEARS)."""
    candidates = [z for z in zone_tab_zones() if transitions(z)]
    if os.environ.get("TOWNHALL_ALL_ZONES") == "1":
        return candidates + [z for z in MUST_HAVE if z not in candidates], len(candidates)
    picked = MUST_HAVE[:SAMPLE_SIZE]
    rest = sorted((z for z in candidates if z not in picked),
                  key=lambda z: hashlib.sha256(z.encode()).hexdigest())
    picked += rest[:max(0, SAMPLE_SIZE - len(picked))]
    return picked, len(candidates)


def naive_local(t, zone):
    return t.astimezone(zone).replace(tzinfo=None)


def aware(naive, zone):
    """A wall-clock time as RFC 5545 reads it: fold=0 (the offset before a
    gap, the first of a repeated time)."""
    return naive.replace(tzinfo=zone, fold=0)


# ---------------------------------------------------------------------------
# Reading an export as RFC 5545 says (icalendar + dateutil)


def resolve(naive, tzid):
    return aware(naive, zoneinfo.ZoneInfo(tzid or "UTC"))


def expand_with_dateutil(ics):
    """[(start, end)] in UTC of every occurrence the calendar shows."""
    calendar = Calendar.from_ical(ics)
    masters, overrides, singles = [], [], []
    for e in calendar.walk("VEVENT"):
        if "RECURRENCE-ID" in e:
            overrides.append(e)
        elif "RRULE" in e:
            masters.append(e)
        else:
            singles.append(e)
    out = []

    def span(e):
        start = resolve(*local_value(e["DTSTART"]))
        if "DURATION" in e:  # A series whose DTSTART is a repeated time.
            return start, start.astimezone(UTC) + e["DURATION"].dt
        return start, resolve(*local_value(e["DTEND"]))

    for e in singles:
        if str(e.get("STATUS")) == "CANCELLED":
            continue
        start, end = span(e)
        out.append((start.astimezone(UTC), end.astimezone(UTC)))
    for m in masters:
        start, end = span(m)
        length = end.astimezone(UTC) - start.astimezone(UTC)
        rules = rruleset()
        rules.rrule(rrulestr(m["RRULE"].to_ical().decode(), dtstart=start))
        for value, tzid in date_list_values(m.get("RDATE")):
            rules.rdate(resolve(value, tzid))
        for value, tzid in date_list_values(m.get("EXDATE")):
            rules.exdate(resolve(value, tzid))
        instances = list(rules)
        for o in overrides:
            if str(o["UID"]) != str(m["UID"]):
                continue
            rid_value, rid_tzid = local_value(o["RECURRENCE-ID"])
            rid = resolve(rid_value, rid_tzid)
            # Matched by value, as EXDATE is (same zone: wall-clock fields).
            hits = [i for i in instances if i == rid]
            assert len(hits) == 1, f"RECURRENCE-ID {rid} names {len(hits)} instances:\n{ics}"
            instances.remove(hits[0])
            o_start, o_end = span(o)
            out.append((o_start.astimezone(UTC), o_end.astimezone(UTC)))
        for i in instances:
            u = i.astimezone(UTC)
            out.append((u, u + length))
    return sorted(out)


def libical_starts(paths):
    """{path: [unix seconds]} read by libical (the ics_instants helper)."""
    helper = os.environ.get("ICS_INSTANTS")
    if not helper:
        raise unittest.SkipTest("ICS_INSTANTS is not set")
    out = {}
    for i in range(0, len(paths), 200):  # Bounded command lines.
        chunk = paths[i:i + 200]
        result = subprocess.run([helper, *chunk], capture_output=True, text=True,
                                check=False, timeout=120)
        if result.returncode != 0:
            raise AssertionError(f"ics_instants failed: {result.stderr}")
        for line in result.stdout.splitlines():
            path, *values = line.split(" ")
            out[path] = [int(v) for v in values]
    return out


# ---------------------------------------------------------------------------


class CalendarZonesPropertyTest(calendar_e2e.SchedulingCase):
    PAGE_SIZE = 500

    def template(self, name, start, title):
        return pb.Session(title=title, start_time=ts(start),
                          duration=duration_pb2.Duration(seconds=int(DURATION.total_seconds())),
                          time_zone=name, format=pb.SESSION_FORMAT_ONLINE)

    def series(self, name, start, rrule, title="Series"):
        return self.call("CreateSeries", pb.CreateSeriesRequest(series=pb.Series(
            template=self.template(name, start, title), rrule=rrule), publish=True)).series

    def single(self, name, start):
        return self.call("CreateSession", pb.CreateSessionRequest(
            session=self.template(name, start, "Session"))).session

    def cancel(self, series, session):
        self.call("CancelOccurrence", pb.CancelOccurrenceRequest(
            series_id=series.id, original_start_time=session.original_start_time))

    def move(self, series, session, to):
        self.call("MoveOccurrence", pb.MoveOccurrenceRequest(
            series_id=series.id, original_start_time=session.original_start_time,
            new_start_time=ts(to)))

    def retitle(self, session, title):
        current = self.call("GetSession", pb.GetSessionRequest(session_id=session.id)).session
        self.call("UpdateSession", pb.UpdateSessionRequest(
            session=pb.Session(id=session.id, title=title),
            update_mask=field_mask_pb2.FieldMask(paths=["title"]), etag=current.etag))

    # -- what to create around one transition ---------------------------------

    def scenario(self, name, when, before, after):
        """Creates sessions and series next to one transition, changes some;
        returns [(kind, id)] to export."""
        zone = zoneinfo.ZoneInfo(name)
        jump = after - before  # > 0: a gap; < 0: a repeated hour
        repeated = jump < dt.timedelta(0)
        # The middle of the gap ([wall time before, + jump)) or of the
        # repeated hour ([wall time after, - jump)), on the minute.
        edge = (when + (before if not repeated else after)).replace(tzinfo=None)
        middle = (edge + abs(jump) / 2).replace(second=0, microsecond=0)
        first_repeat = (middle - before).replace(tzinfo=UTC)   # repeated: 1st
        second_repeat = (middle - after).replace(tzinfo=UTC)   # repeated: 2nd
        just_before = when - dt.timedelta(minutes=30)
        just_after = when + dt.timedelta(minutes=30)
        week = dt.timedelta(days=7)
        made = []

        # Singles: just before, just after, and (repeated hour) both
        # instances of the middle; (gap) the middle read as RFC 5545 does.
        starts = [just_before, just_after]
        if repeated:
            starts += [first_repeat, second_repeat]
        else:
            starts.append(aware(middle, zone).astimezone(UTC))
        for i, start in enumerate(starts):
            s = self.single(name, start)
            made.append(("session", s.id))
            if i == 0:  # One cancelled: an empty calendar.
                self.call("CancelSession", pb.CancelSessionRequest(session_id=s.id))

        # A weekly series whose 2nd instance is the middle local time.
        a = self.series(name, aware(middle - week, zone).astimezone(UTC), "FREQ=WEEKLY;COUNT=4")
        occ = self.occurrences(a.id)
        self.cancel(a, occ[2])
        # Moved into the repeated hour (its 2nd instance), or to just after
        # the gap (not onto the live start of the instance in the gap).
        self.move(a, occ[3], second_repeat if repeated else when + dt.timedelta(minutes=1))
        made.append(("series", a.id))

        # The same with the transition instance cancelled, the 3rd edited
        # (an override), the 1st moved to just after the change.
        b = self.series(name, aware(middle - week, zone).astimezone(UTC), "FREQ=WEEKLY;COUNT=3")
        occ = self.occurrences(b.id)
        self.cancel(b, occ[1])
        self.retitle(occ[2], "Own title")
        self.move(b, occ[0], when + dt.timedelta(minutes=2))
        made.append(("series", b.id))

        # Daily series starting at the transition's edges, and (repeated
        # hour) at the second instance, whose first occurrence is edited.
        c = self.series(name, just_after - dt.timedelta(days=1), "FREQ=DAILY;COUNT=3")
        made.append(("series", c.id))
        d = self.series(name, just_before, "FREQ=DAILY;COUNT=2")
        made.append(("series", d.id))
        if repeated:
            e = self.series(name, second_repeat, "FREQ=WEEKLY;COUNT=2")
            made.append(("series", e.id))
            f = self.series(name, second_repeat, "FREQ=WEEKLY;COUNT=2")
            occ = self.occurrences(f.id)
            self.retitle(occ[0], "Own title")
            made.append(("series", f.id))
        return made

    def live(self, kind, id_):
        """[(start, end)] of the live (not cancelled) occurrences."""
        if kind == "session":
            sessions = [self.call("GetSession", pb.GetSessionRequest(session_id=id_)).session]
        else:
            sessions = self.occurrences(id_)
        return sorted((instant(s.start_time), instant(s.start_time) + dt.timedelta(
            seconds=s.duration.seconds)) for s in sessions
            if s.state != pb.SESSION_STATE_CANCELLED)

    def export(self, kind, id_):
        request = (pb.ExportCalendarRequest(session_id=id_) if kind == "session"
                   else pb.ExportCalendarRequest(series_id=id_))
        return self.call("ExportCalendar", request).ics

    # -- the test -------------------------------------------------------------

    def test_exports_match_live_occurrences_around_every_transition(self):
        zones, with_transitions = pick_zones()
        counts = {"zones": 0, "transitions": 0, "exports": 0,
                  "occurrences_dateutil": 0, "occurrences_libical": 0}
        exports = []  # (zone, kind, id, ics, live)
        for name in zones:
            counts["zones"] += 1
            found = transitions(name)
            if not found:  # No change in YEARS (Asia/Kamchatka): plain times.
                start = dt.datetime(YEARS[0], 3, 28, 2, 30, tzinfo=zoneinfo.ZoneInfo(name))
                made = [("series", self.series(name, start.astimezone(UTC),
                                               "FREQ=WEEKLY;COUNT=3").id),
                        ("session", self.single(name, start.astimezone(UTC)).id)]
            else:
                made = []
                for when, before, after in found:
                    counts["transitions"] += 1
                    made += self.scenario(name, when, before, after)
            for kind, id_ in made:
                exports.append((name, kind, id_, self.export(kind, id_), self.live(kind, id_)))

        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for i, (name, kind, id_, ics, live) in enumerate(exports):
                counts["exports"] += 1
                with self.subTest(zone=name, kind=kind, id=id_):
                    got = expand_with_dateutil(ics)
                    self.assertEqual(got, live, f"dateutil reads other occurrences "
                                     f"than the server's ({name}):\n{ics}")
                    counts["occurrences_dateutil"] += len(live)
                path = os.path.join(tmp, f"{i}.ics")
                with open(path, "w", encoding="utf-8", newline="") as f:
                    f.write(ics)
                paths.append(path)
            read = libical_starts(paths)
            for path, (name, kind, id_, ics, live) in zip(paths, exports):
                with self.subTest(zone=name, kind=kind, id=id_, reader="libical"):
                    self.assertEqual(read[path], [int(s.timestamp()) for s, _ in live],
                                     f"libical reads other occurrences than the "
                                     f"server's ({name}):\n{ics}")
                    counts["occurrences_libical"] += len(live)
        print(f"\ncalendar zones property test: {counts['zones']} zones "
              f"(of {with_transitions} zone.tab zones with a transition in "
              f"{YEARS[0]}-{YEARS[-1]}), {counts['transitions']} transitions, "
              f"{counts['exports']} exports, {counts['occurrences_dateutil']} occurrences "
              f"checked with dateutil, {counts['occurrences_libical']} with libical",
              file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
