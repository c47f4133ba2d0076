"""Guards on the regency ledger: what a station's role may do to the lock, the jobs, the unlocks and the audit log.

Grants say which tables a station's role may write; these triggers say which steps. A station holding its role's
password (psql, or this program) could otherwise free a printed NIK without the centre's unlock: open, delete or
move its lock, forge an unlock, put a printed job back in the queue or in doubt, or append lock entries to the
audit log. Each guard lets through exactly the steps the honest station takes (console/locks.py, console/jobs.py,
the engine's settling) and refuses any other with SQLSTATE 42501 (insufficient_privilege), as a missing grant
would. The ledger's owner (the administrator's desk, who applies the centre's grants) is not held by them; every
other role is, registered by `add-station` or made by hand.

A station's role gives a lock back only for a job whose `Ss` never went out: printing with no counter committed
(the engine commits the counter a card follows before its `Ss`) and no card booked. A job whose card was started
is settled from the printer's counter, never queued again: when the printer shows its blank never left the
feeder, the engine sends the same card again under the same lock (docs/decisions.md).

The functions run as the role that writes (not as their owner): `ktpel_station()` names that role's station.
Every table is named with its schema and `pg_temp` is searched last, so a temporary table of the role's own
cannot stand in for a guarded one. No `?`, `%` outside quotes, nor `:name` in these texts: they pass through the
store's placeholder translation.
"""

from __future__ import annotations

from typing import Any

from console.jobs import TRANSITIONS
from console.schema import CLAIMS_LOCK

_PATH = "SET search_path = pg_catalog, public, pg_temp"

_TRANSITIONS = ", ".join(f"('{old}', '{new}')" for old, news in TRANSITIONS.items() for new in sorted(news))

# A job's card as the books recorded it: fixed once the card was printed (or the job cancelled); while printing,
# all but its unlock (which a blank given back returns) and, once, the counter its card follows and when it started
# (a blank taken while the card before printed, `jobs.start_reserved`).
_CARD = (
    "allocation_id",
    "card_counter",
    "card_dest",
    "printer_serial",
    "station_id",
    "queued_for",
    "queued_at",
    "printed_at",
)
_START = ("counter_before", "started_at")  # set once for a job whose blank was taken while the card before printed

# A card's tag: it stands once a report carried it to the centre, or the card was handed over.
_TAG = ("state", "tag_reason", "tag_note")


def _row(alias: str, *more: str) -> str:
    return "ROW(" + ", ".join(f"{alias}.{column}" for column in (*_CARD, *more)) + ")"


_FUNCTIONS = [
    f"""
CREATE OR REPLACE FUNCTION public.ktpel_refuse(what text) RETURNS void LANGUAGE plpgsql {_PATH} AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'a station''s role may not ' || what,
        HINT = 'the NIK lock opens only by the centre''s grant, applied by the ledger''s owner (docs/multi-station.md)';
END
$$""",
    # The ledger's owner (a member of the role owning its tables, or a superuser) is not held by the guards; any
    # other role is, registered or not (a role made by hand with wide grants too).
    f"""
CREATE OR REPLACE FUNCTION public.ktpel_owner() RETURNS boolean LANGUAGE sql STABLE {_PATH} AS $$
    SELECT pg_has_role(current_user, c.relowner, 'MEMBER') FROM pg_class c WHERE c.oid = 'public.jobs'::regclass
$$""",
    # A job of the station's that took its blank and whose `Ss` never went out: no counter committed (the engine
    # commits the counter its card follows before the `Ss`), no card booked. Only such a job gives its lock back.
    f"""
CREATE OR REPLACE FUNCTION public.ktpel_reserved(job bigint, of_nik text) RETURNS boolean LANGUAGE sql STABLE
{_PATH} AS $$
    SELECT EXISTS (SELECT 1 FROM public.jobs j WHERE j.id = $1 AND j.nik = $2 AND j.state = 'printing'
                   AND j.counter_before IS NULL AND j.card_counter IS NULL
                   AND j.station_id = public.ktpel_station())
$$""",
    # nik_locks: a station closes a lock for its job about to take the blank (a NIK never printed, or unlocked
    # by the centre: the unlock used by that job), and gives back the lock of the job in flight whose blank never
    # left (a first card: the row goes; a reprint: back to its unlock, unused again). Nothing else: never opens,
    # moves nor rewrites a lock.
    f"""
CREATE OR REPLACE FUNCTION public.ktpel_guard_nik_locks() RETURNS trigger LANGUAGE plpgsql {_PATH} AS $$
BEGIN
    IF public.ktpel_owner() AND TG_OP = 'DELETE' THEN
        RETURN OLD;
    ELSIF public.ktpel_owner() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.unlocked_at IS NULL AND NEW.unlock_id IS NULL AND EXISTS (SELECT 1 FROM public.jobs j
                WHERE j.id = NEW.job_id AND j.nik = NEW.nik AND j.state = 'queued') THEN
            RETURN NEW;
        END IF;
        PERFORM public.ktpel_refuse('lock NIK ' || NEW.nik || ' other than closed, for a queued job of that NIK');
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.unlocked_at IS NULL AND public.ktpel_reserved(OLD.job_id, OLD.nik)
                AND NOT EXISTS (SELECT 1 FROM public.unlocks u WHERE u.nik = OLD.nik) THEN
            RETURN OLD;
        END IF;
        PERFORM public.ktpel_refuse('delete the lock of NIK ' || OLD.nik);
    END IF;
    IF NEW.nik = OLD.nik AND OLD.unlocked_at IS NOT NULL AND NEW.unlocked_at IS NULL THEN
        IF NEW.unlock_id IS NULL AND EXISTS (SELECT 1 FROM public.jobs j
                WHERE j.id = NEW.job_id AND j.nik = NEW.nik AND j.state = 'queued')
                AND EXISTS (SELECT 1 FROM public.unlocks u
                    WHERE u.id = OLD.unlock_id AND u.used_by_job = NEW.job_id) THEN
            RETURN NEW;
        END IF;
    ELSIF NEW.nik = OLD.nik AND OLD.unlocked_at IS NULL AND NEW.unlocked_at IS NOT NULL THEN
        IF public.ktpel_reserved(OLD.job_id, OLD.nik)
                AND EXISTS (SELECT 1 FROM public.unlocks u WHERE u.id = NEW.unlock_id AND u.nik = NEW.nik
                    AND u.used_by_job IS NULL AND u.unlocked_at = NEW.unlocked_at
                    AND u.id = (SELECT max(v.id) FROM public.unlocks v WHERE v.nik = NEW.nik))
                AND EXISTS (SELECT 1 FROM public.jobs p WHERE p.id = NEW.job_id AND p.nik = NEW.nik
                    AND p.card_counter IS NOT NULL) THEN
            RETURN NEW;
        END IF;
    END IF;
    PERFORM public.ktpel_refuse('open, move or rewrite the lock of NIK ' || OLD.nik);
    RETURN NULL;
END
$$""",
    # jobs: the state machine of console/jobs.py; a job takes its blank only under its NIK's lock closed for it
    # and goes back to the queue only once that lock was given back; a printed card's record stays as it is, and
    # its tag too once reported or handed over (a good card turned bad would win an unlock at the next report).
    f"""
CREATE OR REPLACE FUNCTION public.ktpel_guard_jobs() RETURNS trigger LANGUAGE plpgsql {_PATH} AS $$
BEGIN
    IF public.ktpel_owner() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.state = 'queued' AND NEW.allocation_id IS NULL AND NEW.card_counter IS NULL
                AND NEW.unlock_id IS NULL AND NEW.printed_at IS NULL THEN
            RETURN NEW;
        END IF;
        PERFORM public.ktpel_refuse('add job for NIK ' || NEW.nik || ' other than queued, with no blank');
    END IF;
    IF OLD.station_id IS DISTINCT FROM public.ktpel_station() AND OLD.station_id IS NOT NULL THEN
        -- another station's claim: taken over only once that station's printing process is gone (console/jobs.py)
        IF OLD.state = 'queued' AND OLD.queued_for IS NULL AND NEW.station_id = public.ktpel_station()
                AND to_jsonb(NEW) - 'station_id' = to_jsonb(OLD) - 'station_id'
                AND pg_try_advisory_xact_lock({CLAIMS_LOCK}, hashtext(OLD.station_id)) THEN
            RETURN NEW;
        END IF;
        PERFORM public.ktpel_refuse('change job ' || OLD.id || ' of station ' || OLD.station_id);
    END IF;
    IF NEW.id <> OLD.id OR NEW.nik <> OLD.nik THEN
        PERFORM public.ktpel_refuse('give job ' || OLD.id || ' another number or NIK');
    END IF;
    IF NEW.state <> OLD.state AND (OLD.state, NEW.state) NOT IN ({_TRANSITIONS}) THEN
        PERFORM public.ktpel_refuse('move job ' || OLD.id || ' from ' || OLD.state || ' to ' || NEW.state);
    END IF;
    IF OLD.state IN ('printed', 'done_good', 'done_bad', 'cancelled')
                AND {_row("NEW", *_START, "unlock_id")} IS DISTINCT FROM {_row("OLD", *_START, "unlock_id")}
            OR OLD.state = 'printing' AND NEW.state = 'printing' AND ({_row("NEW")} IS DISTINCT FROM {_row("OLD")}
                OR OLD.counter_before IS NOT NULL AND {_row("NEW", *_START)} IS DISTINCT FROM {_row("OLD", *_START)}
                OR NEW.unlock_id IS NOT NULL AND NEW.unlock_id IS DISTINCT FROM OLD.unlock_id) THEN
        PERFORM public.ktpel_refuse('rewrite the card of job ' || OLD.id);
    END IF;
    IF OLD.state IN ('done_good', 'done_bad') AND {_row("NEW", *_TAG)} IS DISTINCT FROM {_row("OLD", *_TAG)}
            AND (EXISTS (SELECT 1 FROM public.report_cards c WHERE c.job_id = OLD.id)
                OR EXISTS (SELECT 1 FROM public.card_custody c WHERE c.job_id = OLD.id)) THEN
        PERFORM public.ktpel_refuse('change the tag of job ' || OLD.id || ', reported or handed over');
    END IF;
    IF OLD.state = 'queued' AND NEW.state = 'printing' AND NOT EXISTS (SELECT 1 FROM public.nik_locks l
            WHERE l.nik = NEW.nik AND l.job_id = NEW.id AND l.unlocked_at IS NULL) THEN
        PERFORM public.ktpel_refuse('print job ' || OLD.id || ' without its NIK''s lock closed for it');
    END IF;
    IF OLD.state = 'printing' AND NEW.state = 'queued' AND (OLD.counter_before IS NOT NULL OR EXISTS (
            SELECT 1 FROM public.nik_locks l WHERE l.nik = NEW.nik AND l.job_id = NEW.id AND l.unlocked_at IS NULL)) THEN
        PERFORM public.ktpel_refuse('queue job ' || OLD.id || ' again: its card was started, or NIK ' || NEW.nik
            || ' is locked for it');
    END IF;
    RETURN NEW;
END
$$""",
    # unlocks: used by the reprint about to take its blank (the NIK's lock open on this very unlock), or given
    # back by that reprint while in flight. Never made, never moved to another job.
    f"""
CREATE OR REPLACE FUNCTION public.ktpel_guard_unlocks() RETURNS trigger LANGUAGE plpgsql {_PATH} AS $$
BEGIN
    IF public.ktpel_owner() OR NEW.used_by_job IS NOT DISTINCT FROM OLD.used_by_job THEN
        RETURN NEW;
    END IF;
    IF OLD.used_by_job IS NULL AND EXISTS (SELECT 1 FROM public.jobs j
            WHERE j.id = NEW.used_by_job AND j.nik = NEW.nik AND j.state = 'queued')
            AND EXISTS (SELECT 1 FROM public.nik_locks l
                WHERE l.nik = NEW.nik AND l.unlock_id = NEW.id AND l.unlocked_at IS NOT NULL) THEN
        RETURN NEW;
    END IF;
    IF NEW.used_by_job IS NULL AND public.ktpel_reserved(OLD.used_by_job, OLD.nik) THEN
        RETURN NEW;
    END IF;
    PERFORM public.ktpel_refuse('change the use of unlock ' || OLD.id || ' of NIK ' || OLD.nik);
    RETURN NULL;
END
$$""",
    # station_stock (its column in_stock alone): a blank put back is checked at commit: never more blanks in the
    # station's stock than were issued to it and not spent on a job or spoiled (it comes back only with its job).
    f"""
CREATE OR REPLACE FUNCTION public.ktpel_guard_station_stock() RETURNS trigger LANGUAGE plpgsql {_PATH} AS $$
BEGIN
    IF NEW.in_stock > OLD.in_stock AND NOT public.ktpel_owner() AND EXISTS (SELECT 1 FROM public.station_stock s
            WHERE s.allocation_id = NEW.allocation_id AND s.station_id = NEW.station_id AND s.in_stock
                + (SELECT count(*) FROM public.jobs j WHERE j.allocation_id = s.allocation_id
                   AND j.station_id = s.station_id AND j.state IN ('printing', 'printed', 'done_good', 'done_bad'))
                + (SELECT count(*) FROM public.spoiled p WHERE p.allocation_id = s.allocation_id
                   AND p.station_id = s.station_id) > s.issued) THEN
        PERFORM public.ktpel_refuse('hold more blanks of ' || NEW.allocation_id || ' than were issued to it');
    END IF;
    RETURN NULL;
END
$$""",
    # audit: the lock rule reads the last lock entry of each NIK; a station never writes the centre's unlock
    # there, and writes that a lock was given back only once it was.
    f"""
CREATE OR REPLACE FUNCTION public.ktpel_guard_audit() RETURNS trigger LANGUAGE plpgsql {_PATH} AS $$
BEGIN
    IF public.ktpel_owner() THEN
        RETURN NEW;
    END IF;
    IF NEW.action IN ('nik.unlocked', 'grant.applied') OR NEW.action = 'nik.lock_released' AND EXISTS (
            SELECT 1 FROM public.nik_locks l WHERE l.nik = NEW.subject AND l.unlocked_at IS NULL) THEN
        PERFORM public.ktpel_refuse('append ' || NEW.action || ' of ' || coalesce(NEW.subject, '-') || ' to the audit');
    END IF;
    RETURN NEW;
END
$$""",
]

_TRIGGERS = {
    "nik_locks": "BEFORE INSERT OR UPDATE OR DELETE",
    "jobs": "BEFORE INSERT OR UPDATE",
    "unlocks": "BEFORE UPDATE",
    "audit": "BEFORE INSERT",
}
# checked at commit: a blank given back and its job queued again are two statements of one transaction
_AT_COMMIT = {"station_stock": "AFTER UPDATE"}
GUARDED_TABLES = (*_TRIGGERS, *_AT_COMMIT)


async def ensure_guards(tx: Any) -> None:
    """The guards' functions (replaced by this program's) and their triggers, once per table."""
    for function in _FUNCTIONS:
        await tx.execute(function)
    await tx.execute("DROP FUNCTION IF EXISTS public.ktpel_in_flight(bigint, text)")  # an older program's guard
    for table, when in _TRIGGERS.items():
        await tx.execute(f"DROP TRIGGER IF EXISTS ktpel_guard ON {table}")
        await tx.execute(
            f"CREATE TRIGGER ktpel_guard {when} ON {table} FOR EACH ROW EXECUTE FUNCTION public.ktpel_guard_{table}()"
        )
    for table, when in _AT_COMMIT.items():
        await tx.execute(f"DROP TRIGGER IF EXISTS ktpel_guard ON {table}")
        await tx.execute(
            f"CREATE CONSTRAINT TRIGGER ktpel_guard {when} ON {table} DEFERRABLE INITIALLY DEFERRED "
            f"FOR EACH ROW EXECUTE FUNCTION public.ktpel_guard_{table}()"
        )
