"""The database schema, as numbered migrations (`PRAGMA user_version` holds how many have run).

A migration is appended, never edited once released: a station's database must open with every later program.
"""

APPLICATION_ID = 0x4B54504C  # "KTPL": marks the file as this station's database
CLAIMS_LOCK = 0x4B54504A  # "KTPJ": on a ledger, held by a station's printing process (console/jobs.py)

MIGRATIONS: list[str] = [
    # 1: the station's first schema
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );

    CREATE TABLE residents (
        nik               TEXT PRIMARY KEY CHECK (length(nik) = 16),
        nama              TEXT NOT NULL,
        tempat_lahir      TEXT NOT NULL,
        tanggal_lahir     TEXT NOT NULL,
        jenis_kelamin     TEXT NOT NULL CHECK (jenis_kelamin IN ('LAKI-LAKI', 'PEREMPUAN')),
        gol_darah         TEXT NOT NULL DEFAULT '-',
        alamat            TEXT NOT NULL,
        rt                TEXT NOT NULL,
        rw                TEXT NOT NULL,
        kel_desa          TEXT NOT NULL,
        kecamatan         TEXT NOT NULL,
        agama             TEXT NOT NULL,
        status_perkawinan TEXT NOT NULL,
        pekerjaan         TEXT NOT NULL,
        kewarganegaraan   TEXT NOT NULL DEFAULT 'WNI',
        berlaku_hingga    TEXT NOT NULL DEFAULT 'SEUMUR HIDUP',
        lokasi_perekaman  TEXT,
        tanggal_perekaman TEXT,
        foto              TEXT,
        source            TEXT,
        imported_at       TEXT NOT NULL,
        updated_at        TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX residents_by_name ON residents (nama COLLATE NOCASE);
    CREATE INDEX residents_by_village ON residents (kecamatan, kel_desa);

    -- A blank allocation received from the centre. in_stock is kept, not derived, so that the books can be
    -- checked: received = good + bad + untagged + spoiled + in_stock must hold at every moment.
    CREATE TABLE allocations (
        id          TEXT PRIMARY KEY,
        seq         INTEGER NOT NULL UNIQUE,          -- receiving order: blanks are spent oldest first
        received    INTEGER NOT NULL CHECK (received > 0),
        in_stock    INTEGER NOT NULL CHECK (in_stock >= 0),
        period      TEXT,
        received_at TEXT NOT NULL
    );

    -- One attempt to print one card for one NIK. States follow the IPP job states (id-issuance.md part 5).
    CREATE TABLE jobs (
        id             INTEGER PRIMARY KEY,
        nik            TEXT NOT NULL REFERENCES residents (nik),
        state          TEXT NOT NULL CHECK (state IN
                         ('queued', 'held', 'printing', 'printed', 'done_good', 'done_bad', 'cancelled')),
        state_reason   TEXT,                          -- why it is held, stopped or cancelled
        allocation_id  TEXT REFERENCES allocations (id),  -- where its blank came from, once one was taken
        counter_before INTEGER,                       -- the printer's Rco;c read just before Ss
        card_counter   INTEGER,                       -- Rco;c of this job's card, once a card was taken
        card_dest      TEXT CHECK (card_dest IN ('hopper', 'reject', 'removed')),
        tag_reason     TEXT CHECK (tag_reason IN
                         ('gagal_cetak', 'gagal_encode', 'rusak_fisik', 'salah_data', 'lainnya')),
        tag_note       TEXT,
        tagged_by      TEXT,
        unlock_id      INTEGER REFERENCES unlocks (id),   -- the unlock that allowed this reprint
        queued_at      TEXT NOT NULL,
        started_at     TEXT,
        printed_at     TEXT,
        tagged_at      TEXT
    );
    CREATE UNIQUE INDEX jobs_one_open_per_nik ON jobs (nik) WHERE state IN ('queued', 'held', 'printing');
    CREATE INDEX jobs_by_state ON jobs (state, id);
    CREATE INDEX jobs_by_nik ON jobs (nik, id);
    CREATE INDEX jobs_by_allocation ON jobs (allocation_id, state);

    -- The central lock: a NIK is locked while unlocked_at is NULL. A centre's unlock sets unlocked_at; the next
    -- blank taken for the NIK locks it again (job_id and locked_at change, unlocked_at goes back to NULL).
    CREATE TABLE nik_locks (
        nik         TEXT PRIMARY KEY REFERENCES residents (nik),
        job_id      INTEGER NOT NULL REFERENCES jobs (id),
        locked_at   TEXT NOT NULL,
        unlocked_at TEXT,
        unlock_id   INTEGER REFERENCES unlocks (id)
    ) WITHOUT ROWID;

    -- Blanks consumed without a NIK on them (a card the printer took that no job owns, damage found in stock).
    CREATE TABLE spoiled (
        id            INTEGER PRIMARY KEY,
        allocation_id TEXT NOT NULL REFERENCES allocations (id),
        card_counter  INTEGER,
        reason        TEXT NOT NULL,
        note          TEXT,
        at            TEXT NOT NULL
    );

    -- Physical counts of the blanks in stock; a difference is kept and shown, never hidden.
    CREATE TABLE stock_counts (
        id            INTEGER PRIMARY KEY,
        allocation_id TEXT NOT NULL REFERENCES allocations (id),
        counted       INTEGER NOT NULL CHECK (counted >= 0),
        expected      INTEGER NOT NULL,
        note          TEXT,
        counted_by    TEXT,
        at            TEXT NOT NULL
    );

    -- Reports made for the centre, kept so that one can be produced again with the same report_id.
    CREATE TABLE reports (
        report_id     TEXT PRIMARY KEY,
        allocation_id TEXT NOT NULL REFERENCES allocations (id),
        generated_at  TEXT NOT NULL,
        body          TEXT NOT NULL                   -- the report's canonical JSON
    );

    -- Grants from the centre that were applied; the nonce is never accepted twice.
    CREATE TABLE grants (
        nonce      TEXT PRIMARY KEY,
        report_id  TEXT NOT NULL REFERENCES reports (report_id),
        key_id     TEXT NOT NULL,
        applied_at TEXT NOT NULL,
        body       TEXT NOT NULL
    );

    -- One NIK opened by one grant, for exactly one reprint (used_by_job once that reprint took its blank).
    CREATE TABLE unlocks (
        id          INTEGER PRIMARY KEY,
        nik         TEXT NOT NULL REFERENCES residents (nik),
        grant_nonce TEXT NOT NULL REFERENCES grants (nonce),
        unlocked_at TEXT NOT NULL,
        used_by_job INTEGER REFERENCES jobs (id)
    );
    CREATE INDEX unlocks_by_nik ON unlocks (nik);

    -- Requests to the process that holds the printer (a supervisor's pause/resume), carried out by it.
    CREATE TABLE requests (
        id        INTEGER PRIMARY KEY,
        kind      TEXT NOT NULL CHECK (kind IN ('pause', 'resume')),
        requester TEXT NOT NULL,
        at        TEXT NOT NULL,
        done_at   TEXT
    );

    -- Live state published by the process that holds the printer, for `status` and supervisors.
    CREATE TABLE live_state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL,                           -- JSON
        at    TEXT NOT NULL
    ) WITHOUT ROWID;

    -- The audit log: every state change that matters, hash-chained (hash covers prev_hash and the entry).
    CREATE TABLE audit (
        seq       INTEGER PRIMARY KEY,
        at        TEXT NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        subject   TEXT,
        data      TEXT NOT NULL,                       -- canonical JSON
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
    );
    CREATE INDEX audit_by_subject ON audit (subject, seq);
    """,
    # The exact card a report lists and a grant unlocks: counters repeat across printers (and after a service
    # reset), so a card is named by the printer that took its blank, and each report keeps the jobs it listed.
    # Cards listed in a report are frozen (their tag stands); a grant applies only to a card its report listed.
    """
    ALTER TABLE jobs ADD COLUMN printer_serial TEXT;   -- the printer that took this job's blank

    CREATE TABLE report_cards (
        report_id TEXT NOT NULL REFERENCES reports (report_id),
        job_id    INTEGER NOT NULL REFERENCES jobs (id),
        PRIMARY KEY (report_id, job_id)
    ) WITHOUT ROWID;
    CREATE INDEX report_cards_by_job ON report_cards (job_id);

    -- Reports made before: their cards found again by allocation, NIK, counter and the instant printed.
    INSERT OR IGNORE INTO report_cards (report_id, job_id)
    SELECT r.report_id, j.id
    FROM reports r, json_each(r.body, '$.good') AS c
    JOIN jobs j ON j.allocation_id = r.allocation_id AND j.nik = json_extract(c.value, '$.nik')
               AND j.card_counter IS json_extract(c.value, '$.card_counter')
               AND j.printed_at IS json_extract(c.value, '$.printed_at')
    UNION ALL
    SELECT r.report_id, j.id
    FROM reports r, json_each(r.body, '$.bad') AS c
    JOIN jobs j ON j.allocation_id = r.allocation_id AND j.nik = json_extract(c.value, '$.nik')
               AND j.card_counter IS json_extract(c.value, '$.card_counter')
               AND j.printed_at IS json_extract(c.value, '$.printed_at');
    """,
    # Operators who sign in (docs/operators.md); the PIN is kept only as a salted scrypt hash, with the
    # parameters it was made with so that they can be raised later
    """
    CREATE TABLE operators (
        name            TEXT PRIMARY KEY COLLATE NOCASE,
        role            TEXT NOT NULL CHECK (role IN ('operator', 'supervisor')),
        pin_hash        TEXT NOT NULL,
        pin_salt        TEXT NOT NULL,
        pin_params      TEXT NOT NULL,                 -- e.g. scrypt:n=16384,r=8,p=1,len=32
        created_at      TEXT NOT NULL,
        created_by      TEXT NOT NULL,
        pin_changed_at  TEXT NOT NULL,
        disabled_at     TEXT,
        failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
        locked_until    TEXT                           -- no attempt is checked before this moment
    ) WITHOUT ROWID;
    """,
    # The books' card counter kept per printer serial (a printer swapped out and back is followed where they
    # left it): the one counter of the booked printer moves under its serial's key.
    """
    INSERT OR REPLACE INTO meta (key, value)
        SELECT 'printer.counter:' || s.value, c.value FROM meta s JOIN meta c
        ON s.key = 'printer.serial' AND c.key = 'printer.counter';
    DELETE FROM meta WHERE key = 'printer.counter';
    """,
    # The lock rule (console/locks.py) reads each NIK's last lock entry of the audit log: a short index walk.
    # The guard of one open job a NIK is created again if a database lost it; one that holds two open jobs for a
    # NIK stops here, unchanged, and the migration says so.
    """
    CREATE UNIQUE INDEX IF NOT EXISTS jobs_one_open_per_nik ON jobs (nik) WHERE state IN ('queued', 'held', 'printing');
    CREATE INDEX audit_lock_events ON audit (subject, seq)
        WHERE action IN ('nik.locked', 'nik.unlocked', 'nik.lock_released');
    """,
    # Reports in the order they were made, a column both backends keep (SQLite's rowid has no equal on the
    # regency ledger's PostgreSQL): the first report that listed a card is found by it, never by a clock.
    """
    ALTER TABLE reports ADD COLUMN made_seq INTEGER;
    UPDATE reports SET made_seq = rowid;
    CREATE UNIQUE INDEX reports_by_made_seq ON reports (made_seq);
    """,
    # Residents found by the name of their village or kecamatan, a page at a time in the order shown (place,
    # then name): each index holds what the search filters on, so a page never reads the rows it skips.
    """
    CREATE INDEX residents_by_village_name ON residents (kel_desa COLLATE NOCASE, nama COLLATE NOCASE);
    CREATE INDEX residents_by_district_name
        ON residents (kecamatan COLLATE NOCASE, kel_desa COLLATE NOCASE, nama COLLATE NOCASE);
    """,
    # Stations on rows (docs/multi-station.md): every row a station writes names it. Rows written before this
    # step belong to the placeholder station '-'; a single station's SQLite file gives them to its configured
    # station when it opens (console/stations.py), a regency ledger keeps them as history of '-'.
    # A job names the station that claimed it (`station_id`, NULL while unclaimed) and, when queued for one
    # station only, that station (`queued_for`, NULL = any). Blanks of an allocation are in the regency's stock
    # (`allocations.in_stock`) or issued to a station (`station_stock`); a station spends only its own.
    """
    CREATE TABLE stations (
        id      TEXT PRIMARY KEY,
        name    TEXT NOT NULL,
        created TEXT NOT NULL,
        role    TEXT                                   -- the ledger role it logs in as, once registered
    );
    INSERT INTO stations (id, name, created) VALUES ('-', 'before stations', '1970-01-01T00:00:00.000+00:00');

    ALTER TABLE jobs ADD COLUMN station_id TEXT REFERENCES stations (id);
    ALTER TABLE jobs ADD COLUMN queued_for TEXT REFERENCES stations (id);
    UPDATE jobs SET station_id = '-' WHERE allocation_id IS NOT NULL OR state <> 'queued';
    CREATE INDEX jobs_claimable ON jobs (state, station_id, id);

    ALTER TABLE spoiled ADD COLUMN station_id TEXT NOT NULL DEFAULT '-';   -- SQLite adds no key with a default
    ALTER TABLE requests ADD COLUMN station_id TEXT NOT NULL DEFAULT '-';
    ALTER TABLE audit ADD COLUMN station_id TEXT;      -- NULL before stations; the hash covers it when set

    CREATE TABLE station_state (
        station_id TEXT NOT NULL REFERENCES stations (id),
        key        TEXT NOT NULL,
        value      TEXT NOT NULL,
        at         TEXT NOT NULL,
        PRIMARY KEY (station_id, key)
    ) WITHOUT ROWID;
    INSERT INTO station_state (station_id, key, value, at) SELECT '-', key, value, at FROM live_state;
    DROP TABLE live_state;
    CREATE TABLE live_state (
        station_id TEXT NOT NULL REFERENCES stations (id),
        key        TEXT NOT NULL,
        value      TEXT NOT NULL,
        at         TEXT NOT NULL,
        PRIMARY KEY (station_id, key)
    ) WITHOUT ROWID;
    INSERT INTO live_state SELECT * FROM station_state;
    DELETE FROM station_state;
    INSERT INTO station_state (station_id, key, value, at)
        SELECT '-', key, value, '1970-01-01T00:00:00.000+00:00' FROM meta
        WHERE key LIKE 'printer.%' OR key = 'queue.paused';
    DELETE FROM meta WHERE key LIKE 'printer.%' OR key = 'queue.paused';

    CREATE TABLE station_stock (
        allocation_id TEXT NOT NULL REFERENCES allocations (id),
        station_id    TEXT NOT NULL REFERENCES stations (id),
        issued        INTEGER NOT NULL CHECK (issued >= 0),
        in_stock      INTEGER NOT NULL CHECK (in_stock >= 0),
        PRIMARY KEY (allocation_id, station_id)
    ) WITHOUT ROWID;
    INSERT INTO station_stock (allocation_id, station_id, issued, in_stock)
        SELECT id, '-', received, in_stock FROM allocations;
    UPDATE allocations SET in_stock = 0;
    """,
    # Cards after their tag (console/custody.py): batches released for the hand-over all at once, the signed
    # records of a hand-over to a village and of a destruction (their files' SHA-256 kept), each good card handed
    # over or collected, each bad card or spoiled blank destroyed (once: the unique indexes hold it).
    """
    CREATE TABLE batch_releases (
        batch       TEXT PRIMARY KEY,
        released_at TEXT NOT NULL,
        released_by TEXT NOT NULL,
        early       INTEGER NOT NULL CHECK (early IN (0, 1)),
        reason      TEXT,
        blocking    INTEGER NOT NULL                  -- residents not yet printed good when released early
    );

    CREATE TABLE handovers (
        id          INTEGER PRIMARY KEY,
        batch       TEXT NOT NULL REFERENCES batch_releases (batch),
        received_by TEXT NOT NULL,
        at          TEXT NOT NULL,
        actor       TEXT NOT NULL,
        cards       INTEGER NOT NULL CHECK (cards > 0),
        pdf_name    TEXT NOT NULL,
        pdf_sha256  TEXT NOT NULL,
        csv_name    TEXT NOT NULL,
        csv_sha256  TEXT NOT NULL
    );

    CREATE TABLE card_custody (
        job_id         INTEGER PRIMARY KEY REFERENCES jobs (id),
        nik            TEXT NOT NULL REFERENCES residents (nik),
        state          TEXT NOT NULL CHECK (state IN ('issued_to_village', 'collected')),
        handover_id    INTEGER REFERENCES handovers (id),
        receipt        TEXT,
        issued_at      TEXT,
        issued_by      TEXT,
        collected_at   TEXT,
        collected_by   TEXT,
        collector      TEXT,
        proxy_relation TEXT,
        proxy_letter   TEXT,
        slip_sha256    TEXT
    );
    CREATE INDEX card_custody_by_nik ON card_custody (nik);
    CREATE UNIQUE INDEX card_custody_receipts ON card_custody (receipt) WHERE receipt IS NOT NULL;

    CREATE TABLE destructions (
        id            INTEGER PRIMARY KEY,
        allocation_id TEXT NOT NULL REFERENCES allocations (id),
        report_id     TEXT NOT NULL REFERENCES reports (report_id),
        at            TEXT NOT NULL,
        actor         TEXT NOT NULL,
        witnesses     TEXT NOT NULL,                  -- JSON list of names
        cards         INTEGER NOT NULL,
        blanks        INTEGER NOT NULL,
        pdf_name      TEXT NOT NULL,
        pdf_sha256    TEXT NOT NULL,
        csv_name      TEXT NOT NULL,
        csv_sha256    TEXT NOT NULL
    );

    CREATE TABLE destroyed (
        destruction_id INTEGER NOT NULL REFERENCES destructions (id),
        job_id         INTEGER REFERENCES jobs (id),
        spoiled_id     INTEGER REFERENCES spoiled (id),
        CHECK ((job_id IS NULL) <> (spoiled_id IS NULL))
    );
    CREATE UNIQUE INDEX destroyed_cards ON destroyed (job_id) WHERE job_id IS NOT NULL;
    CREATE UNIQUE INDEX destroyed_blanks ON destroyed (spoiled_id) WHERE spoiled_id IS NOT NULL;
    """,
    # A village's population with its card status as the village's system (OpenSID) keeps it (files.md,
    # `station population import`): who is not recorded yet, who is print-ready, for the recording rounds and the
    # request for more blanks. The station's own records (residents, jobs) win over the file's status.
    """
    CREATE TABLE population (
        nik               TEXT PRIMARY KEY CHECK (length(nik) = 16),
        nama              TEXT NOT NULL,
        tanggal_lahir     TEXT NOT NULL,
        jenis_kelamin     TEXT NOT NULL CHECK (jenis_kelamin IN ('LAKI-LAKI', 'PEREMPUAN')),
        kel_desa          TEXT NOT NULL,
        kecamatan         TEXT NOT NULL,
        status_perkawinan TEXT NOT NULL,
        status_ktp        TEXT NOT NULL CHECK (status_ktp IN ('BELUM_WAJIB', 'BELUM_REKAM', 'SUDAH_REKAM',
                                                               'PRINT_READY_RECORD', 'CARD_PRINTED', 'CARD_ISSUED')),
        source            TEXT,
        imported_at       TEXT NOT NULL,
        updated_at        TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX population_by_village ON population (kecamatan, kel_desa);
    """,
    # Recording rounds: a recording kit and its team in one village for a few days (docs/planning.md). What was
    # not recorded when it was planned is kept, to compare with what the round recorded.
    """
    CREATE TABLE rounds (
        id           INTEGER PRIMARY KEY,
        kecamatan    TEXT NOT NULL,
        kel_desa     TEXT NOT NULL,
        starts_on    TEXT NOT NULL,
        ends_on      TEXT NOT NULL CHECK (ends_on >= starts_on),
        kit          TEXT NOT NULL,
        team         TEXT NOT NULL,
        not_recorded INTEGER NOT NULL CHECK (not_recorded >= 0),
        planned_at   TEXT NOT NULL,
        planned_by   TEXT NOT NULL,
        closed_at    TEXT,
        recorded     INTEGER CHECK (recorded >= 0)
    );
    CREATE INDEX rounds_by_kit ON rounds (kit, starts_on);
    """,
    # Requests for more blanks (usulan penambahan blangko, docs/planning.md), one a period: drafted with every term
    # it was computed from (the JSON as written), then sent, approved for a count, received as an allocation.
    """
    CREATE TABLE blank_requests (
        period        TEXT PRIMARY KEY,
        state         TEXT NOT NULL CHECK (state IN ('drafted', 'sent', 'approved', 'received')),
        requested     INTEGER NOT NULL CHECK (requested >= 0),
        body          TEXT NOT NULL,
        drafted_at    TEXT NOT NULL,
        sent_at       TEXT,
        approved_at   TEXT,
        granted       INTEGER CHECK (granted >= 0),
        received_at   TEXT,
        allocation_id TEXT UNIQUE REFERENCES allocations (id)
    );
    """,
    # Blanks borrowed from another regency into an allocation's stock, lent to one out of it, and each loan's
    # return, with the letter that made it (docs/planning.md). The books count what is not returned yet.
    """
    CREATE TABLE blank_loans (
        id            INTEGER PRIMARY KEY,
        allocation_id TEXT NOT NULL REFERENCES allocations (id),
        kind          TEXT NOT NULL CHECK (kind IN ('borrowed', 'lent', 'borrowed_returned', 'lent_returned')),
        regency       TEXT NOT NULL,
        blanks        INTEGER NOT NULL CHECK (blanks > 0),
        letter        TEXT NOT NULL,
        at            TEXT NOT NULL,
        actor         TEXT NOT NULL
    );
    CREATE INDEX blank_loans_by_allocation ON blank_loans (allocation_id, regency);
    """,
    # The wedding day, when the residents or the population file says it: married under 17, wajib KTP-el from it.
    """
    ALTER TABLE residents ADD COLUMN tanggal_perkawinan TEXT;
    ALTER TABLE population ADD COLUMN tanggal_perkawinan TEXT;
    """,
    # The receipt a resident brings to collect their card (tanda bukti pengambilan, console/receipts.py): one number a
    # resident, given when they are first queued for a card and kept for every reprint.
    """
    CREATE TABLE receipts (
        nik       TEXT PRIMARY KEY REFERENCES residents (nik),
        receipt   TEXT NOT NULL UNIQUE,
        issued_at TEXT NOT NULL
    );
    """,
    # Names found by a part of them ("contains" searches): SQLite reads its name index (residents_by_name) for
    # them, which is fast enough; a ledger gets a trigram index instead, when its server allows the pg_trgm
    # extension (console/backends/pg_schema.py; without it the search still answers, reading every name).
    """
    SELECT 'residents_by_name_trigram' WHERE 0;
    """,
]
